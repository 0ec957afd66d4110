"""apid as a supervised service: the node's mTLS API on :50000, in front of machined.

Its certificate is issued at every start (see `identity.py`): control planes sign their
own, workers get theirs from trustd. It waits until the node has an address, so the
certificate names it.
"""

from __future__ import annotations

import os

from talos.machined.config import NodeConfig
from talos.machined.paths import NodePaths
from talos.machined.services.identity import IdentityFiles
from talos.machined.services.identity_service import identity_service, identity_service_skipped
from talos.machined.system.service import ServiceSpec
from talos.machinery.constants import APID_PORT

SERVICE_ID = "apid"


def identity_files(paths: NodePaths) -> IdentityFiles:
    return IdentityFiles(os.path.join(paths.system_run, "apid"))


def apid_service(config: NodeConfig | None, paths: NodePaths, hostname: str = "", *,
                 sandbox: bool) -> ServiceSpec:
    if not sandbox or config is None:
        return identity_service_skipped(SERVICE_ID, sandbox=sandbox)
    files = identity_files(paths)
    return identity_service(SERVICE_ID, config, hostname, files, APID_PORT,
                            ("--backend", paths.socket,
                             "--ca", files.ca, "--cert", files.cert, "--key", files.key))
