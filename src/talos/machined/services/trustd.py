"""trustd as a supervised service on control planes: signs workers' apid certificates on
:50001 for holders of `machine.token`, serving with a certificate it issues itself at start
(files in /system/run/trustd)."""

from __future__ import annotations

import os
import sys

from talos.machined.config import NodeConfig
from talos.machined.paths import NodePaths
from talos.machined.services.apid import tcp_health
from talos.machined.services.identity import (
    IdentityFiles,
    identity_config,
    obtain_identity,
)
from talos.machined.system.service import ProcessSpec, ServiceSpec
from talos.machinery.constants import TRUSTD_PORT

#: a plain-mode machined (`--root`, tests) shares the host network: it leaves the port alone
PLAIN_MODE = ("trustd is started only in node sandboxes "
              "(plain mode leaves the port to the host)")
SERVICE_ID = "trustd"


def trustd_service(config: NodeConfig | None, paths: NodePaths, hostname: str = "", *,
                   sandbox: bool) -> ServiceSpec:
    if not sandbox:
        return ServiceSpec(id=SERVICE_ID, user_controlled=True, skip_reason=PLAIN_MODE)
    if config is None:
        return ServiceSpec(id=SERVICE_ID, user_controlled=True,
                           skip_reason="no machine config: trustd needs the OS CA from it")
    if config.machine_type not in ("controlplane", "init"):
        return ServiceSpec(id=SERVICE_ID, user_controlled=True,
                           skip_reason="trustd runs only on control-plane nodes")
    files = IdentityFiles(os.path.join(paths.system_run, "trustd"))

    async def identity() -> None:
        await obtain_identity(identity_config(config.raw, hostname), files)

    async def health() -> None:
        await tcp_health(TRUSTD_PORT)

    return ServiceSpec(
        id=SERVICE_ID,
        process=ProcessSpec(argv=(sys.executable, "-m", "talos", "trustd",
                                  "--listen", f"0.0.0.0:{TRUSTD_PORT}",
                                  "--ca-cert", files.ca, "--ca-key", files.ca_key,
                                  "--cert", files.cert, "--key", files.key,
                                  "--token-file", files.token)),
        precondition=identity,
        precondition_description=("the node's address and its certificate"
                                  + ("" if config.machine_type in ("controlplane", "init")
                                     else " (signed by trustd)")),
        health_check=health,
        health_interval=1.0,
        backoff=1.0,
        user_controlled=True,
    )
