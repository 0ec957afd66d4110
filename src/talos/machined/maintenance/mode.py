"""Entering and leaving maintenance mode.

A node whose STATE holds no config (and that was given none, or whose STATE was wiped by a
reset) does not boot: it publishes the `maintenance` stage and, where configured, serves the
maintenance API until a config is applied. Applying one stores it and reboots in place, so
the node boots normally with it (apid then takes over the port).
"""

from __future__ import annotations

import os

import grpc

from talos.machined.controllers.runtime.machine_status import MachineStage, machine_status
from talos.machined.maintenance.server import start
from talos.machined.reset import ENV_STATE_WIPED
from talos.machined.server.context import NodeAPI


def seed(config_path: str | None) -> str | None:
    """The `--config` file to seed STATE with, unless a reset wiped STATE since."""
    if os.environ.get(ENV_STATE_WIPED):
        return None
    return config_path


async def enter(stage: MachineStage, node: NodeAPI, listen: str | None) -> grpc.aio.Server | None:
    """Publish the `maintenance` stage and serve the maintenance API on `listen` (None: not
    at all); returns the server to stop on the way out."""
    await stage.publish(machine_status(
        "maintenance", unmet=(("config", "no machine config: apply one"),)))
    if not listen:
        return None
    return await start(node, listen)


async def leave(server: grpc.aio.Server | None) -> None:
    if server is not None:
        await server.stop(grace=0.5)
