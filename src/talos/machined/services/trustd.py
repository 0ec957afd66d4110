"""trustd as a supervised service on control planes: signs workers' apid certificates on
:50001 for holders of `machine.token`, serving with a certificate it issues itself at start
(files in /system/run/trustd)."""

from __future__ import annotations

import os

from talos.machined.config import NodeConfig
from talos.machined.paths import NodePaths
from talos.machined.services.identity import IdentityFiles
from talos.machined.services.identity_service import identity_service, identity_service_skipped
from talos.machined.system.service import ServiceSpec
from talos.machinery.constants import TRUSTD_PORT

SERVICE_ID = "trustd"


def identity_files(paths: NodePaths) -> IdentityFiles:
    return IdentityFiles(os.path.join(paths.system_run, "trustd"))


def trustd_service(config: NodeConfig | None, paths: NodePaths, hostname: str = "", *,
                   sandbox: bool) -> ServiceSpec:
    if not sandbox or config is None:
        return identity_service_skipped(SERVICE_ID, sandbox=sandbox)
    if config.machine_type not in ("controlplane", "init"):
        return ServiceSpec(id=SERVICE_ID, user_controlled=True,
                           skip_reason="trustd runs only on control-plane nodes")
    files = identity_files(paths)
    return identity_service(SERVICE_ID, config, hostname, files, TRUSTD_PORT,
                            ("--ca-cert", files.ca, "--ca-key", files.ca_key,
                             "--cert", files.cert, "--key", files.key,
                             "--token-file", files.token))
