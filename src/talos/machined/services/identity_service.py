"""A supervised service that serves the node's mTLS identity on a TCP port (apid, trustd).

Both obtain their certificate (see `identity.py`) as the precondition of every start, are
healthy once their port accepts a connection, and are left alone by a plain-mode machined
(`--root`, tests), which shares the host network. On control planes both are forked from
machined's fork server (`system/forkserver.py`) when it works, so they share its imported
modules.
"""

from __future__ import annotations

import asyncio
import sys

from talos.machined.config import NodeConfig
from talos.machined.services.identity import IdentityFiles, identity_config, obtain_identity
from talos.machined.system.service import ProcessSpec, ServiceSpec


async def tcp_health(port: int, host: str = "127.0.0.1") -> None:
    _reader, writer = await asyncio.open_connection(host, port)
    writer.close()
    await writer.wait_closed()


def identity_service_skipped(service_id: str, *, sandbox: bool) -> ServiceSpec:
    """The spec of `service_id` when it cannot run here: in plain mode, or (in a sandbox)
    without a machine config."""
    if not sandbox:
        return ServiceSpec(id=service_id, user_controlled=True,
                           skip_reason=(f"{service_id} is started only in node sandboxes "
                                        "(plain mode leaves the port to the host)"))
    return ServiceSpec(id=service_id, user_controlled=True,
                       skip_reason=f"no machine config: {service_id} needs the OS CA from it")


def identity_service(service_id: str, config: NodeConfig, hostname: str,
                     files: IdentityFiles, port: int, args: tuple[str, ...]) -> ServiceSpec:
    """`python -m talos <service_id> --listen 0.0.0.0:<port> <args>`, started once the node
    has an address and its certificate in `files`."""

    async def identity() -> None:
        await obtain_identity(identity_config(config.raw, hostname), files)

    async def health() -> None:
        await tcp_health(port)

    return ServiceSpec(
        id=service_id,
        process=ProcessSpec(argv=(sys.executable, "-m", "talos", service_id,
                                  "--listen", f"0.0.0.0:{port}", *args),
                            # forking pays only where two services share the server
                            # (control planes: apid and trustd; bench/cluster.py: USS
                            # -17 MB there, PSS +10 MB on a worker with apid alone)
                            fork=config.machine_type in ("controlplane", "init")),
        precondition=identity,
        precondition_description=("the node's address and its certificate"
                                  + ("" if config.machine_type in ("controlplane", "init")
                                     else " (signed by trustd)")),
        health_check=health,
        health_interval=1.0,
        backoff=1.0,
        user_controlled=True,
    )
