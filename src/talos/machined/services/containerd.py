"""containerd: Debian's real binary, with its root, state, socket and config under EPHEMERAL."""

from __future__ import annotations

import asyncio
import os
import shutil

from talos.machined.paths import NodePaths
from talos.machined.system.service import ProcessSpec, ServiceSpec
from talos.machinery.atomic import write_atomic

SERVICE_ID = "containerd"


def _layout(paths: NodePaths) -> dict[str, str]:
    eph = paths.ephemeral
    return {
        "root": os.path.join(eph, "lib", "containerd"),
        "state": os.path.join(eph, "run", "containerd"),
        "socket": os.path.join(eph, "run", "containerd", "containerd.sock"),
        "config": os.path.join(eph, "etc", "containerd", "config.toml"),
    }


def socket_path(paths: NodePaths) -> str:
    """containerd's gRPC socket on this node (MachineService's Containers/Stats call it)."""
    return _layout(paths)["socket"]


def _config(layout: dict[str, str]) -> str:
    return "\n".join([
        "version = 2",
        f'root = "{layout["root"]}"',
        f'state = "{layout["state"]}"',
        # the CRI plugin belongs to the `cri` service (needs kubelet), not to system containerd
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        "",
        "[grpc]",
        f'  address = "{layout["socket"]}"',
        "",
        "[ttrpc]",
        f'  address = "{layout["socket"]}.ttrpc"',
        "",
        "[debug]",
        '  address = ""',
        "",
        "[metrics]",
        '  address = ""',
        "",
    ])


def containerd_service(paths: NodePaths) -> ServiceSpec:
    binary = shutil.which("containerd")
    layout = _layout(paths)

    async def prepare() -> None:
        def work() -> None:
            for key in ("root", "state"):
                os.makedirs(layout[key], mode=0o711, exist_ok=True)
            write_atomic(layout["config"], _config(layout), mode=0o644)
        await asyncio.to_thread(work)

    async def health() -> None:
        reader, writer = await asyncio.open_unix_connection(layout["socket"])
        writer.close()
        await writer.wait_closed()
        del reader

    if binary is None:
        return ServiceSpec(id=SERVICE_ID, user_controlled=True,
                           skip_reason="containerd binary not available on this node")
    return ServiceSpec(
        id=SERVICE_ID,
        process=ProcessSpec(argv=(binary, "--config", layout["config"])),
        prepare=prepare,
        health_check=health,
        health_interval=1.0,
        user_controlled=True,
    )
