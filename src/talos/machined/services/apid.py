"""apid as a supervised service: the node's mTLS API on :50000, in front of machined.

Its certificate is issued at every start (see `identity.py`): control planes sign their
own, workers get theirs from trustd. It waits until the node has an address, so the
certificate names it.
"""

from __future__ import annotations

import asyncio
import os
import sys

from talos.machined.config import NodeConfig
from talos.machined.paths import NodePaths
from talos.machined.services.identity import (
    IdentityFiles,
    identity_config,
    obtain_identity,
)
from talos.machined.system.service import ProcessSpec, ServiceSpec
from talos.machinery.constants import APID_PORT

#: a plain-mode machined (`--root`, tests) shares the host network: it leaves the port alone
PLAIN_MODE = ("apid is started only in node sandboxes "
              "(plain mode leaves the port to the host)")
SERVICE_ID = "apid"


def identity_files(paths: NodePaths) -> IdentityFiles:
    return IdentityFiles(os.path.join(paths.system_run, "apid"))


async def tcp_health(port: int, host: str = "127.0.0.1") -> None:
    _reader, writer = await asyncio.open_connection(host, port)
    writer.close()
    await writer.wait_closed()


def apid_service(config: NodeConfig | None, paths: NodePaths, hostname: str = "", *,
                 sandbox: bool) -> ServiceSpec:
    if not sandbox:
        return ServiceSpec(id=SERVICE_ID, user_controlled=True, skip_reason=PLAIN_MODE)
    if config is None:
        return ServiceSpec(id=SERVICE_ID, user_controlled=True,
                           skip_reason="no machine config: apid needs the OS CA from it")
    files = identity_files(paths)

    async def identity() -> None:
        await obtain_identity(identity_config(config.raw, hostname), files)

    async def health() -> None:
        await tcp_health(APID_PORT)

    return ServiceSpec(
        id=SERVICE_ID,
        process=ProcessSpec(argv=(sys.executable, "-m", "talos", "apid",
                                  "--listen", f"0.0.0.0:{APID_PORT}",
                                  "--backend", paths.socket,
                                  "--ca", files.ca, "--cert", files.cert, "--key", files.key)),
        precondition=identity,
        precondition_description=("the node's address and its certificate"
                                  + ("" if config.machine_type in ("controlplane", "init")
                                     else " (signed by trustd)")),
        health_check=health,
        health_interval=1.0,
        backoff=1.0,
        user_controlled=True,
    )
