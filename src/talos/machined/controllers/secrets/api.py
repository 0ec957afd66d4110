"""secrets.APIController: the node's API certificate follows its addresses.

apid and trustd obtain their certificate when they start (`services/identity.py`). While
they run, this controller issues it again whenever what it should name changes: the node's
addresses (`NodeAddress current`: a static address from the config applied after boot, a
new DHCP lease), its hostname (`HostnameStatus`), `machine.certSANs`. Control planes sign
it with the OS CA, workers ask trustd, as at start; apid and trustd present the new files
to new connections without a restart (`nodeserver/tls.py`).

Upstream Talos v1.13.9 splits this into `secrets.APICertSANsController` (a `CertSAN`
resource) and `secrets.APIController` (an `ApiCertificate` resource apid watches); here the
certificate lives in files apid and trustd read, so one controller writes them and there is
no resource.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.services.identity import IdentityFiles, identity_config, refresh_identity
from talos.machinery.errors import TalosError
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import HOSTNAME_STATUS, NODE_ADDRESS

log = logging.getLogger(__name__)

#: a worker whose trustd cannot sign right now asks again after this long
RETRY = 5.0


class APIController:
    name = "secrets.APIController"
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID),
                                 Input.of(NODE_ADDRESS, id="current"),
                                 Input.of(HOSTNAME_STATUS, id="hostname"))
    outputs: tuple[Output, ...] = ()

    def __init__(self, files: Sequence[IdentityFiles]) -> None:
        #: the certificates to keep current (apid's, and trustd's on control planes); one
        #: not issued yet is left to its service's precondition
        self.files = tuple(files)

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            config = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type,
                                 ACTIVE_ID)
            current = await r.get(NODE_ADDRESS.default_namespace, NODE_ADDRESS.type,
                                  "current")
            host = await r.get(HOSTNAME_STATUS.default_namespace, HOSTNAME_STATUS.type,
                               "hostname")
            if config is None or current is None or host is None:
                continue
            fqdn = ".".join(p for p in (host.spec.hostname, host.spec.domainname) if p)
            cfg = identity_config(config.spec.text.encode(), fqdn)
            addresses = [p.split("/", 1)[0] for p in current.spec.addresses]
            for files in self.files:
                try:
                    if await refresh_identity(cfg, files, addresses):
                        log.info("issued the node certificate in %s again: it names %s",
                                 files.directory, ", ".join(addresses) or "no address")
                except TalosError as e:
                    log.warning("cannot issue the node certificate in %s again (retrying "
                                "in %.0f s): %s", files.directory, RETRY, e)
                    r.requeue_after(RETRY)
