"""Entering and leaving maintenance mode, and what a node wires at boot for configs.

A node whose STATE holds no config (and that was given none, or whose STATE was wiped by a
reset) does not boot: it publishes the `maintenance` stage and, where configured, serves the
maintenance API until a config is applied. Applying one stores it and reboots in place, so
the node boots normally with it (apid then takes over the port).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from talos.machined.controllers.runtime.machine_status import machine_status
from talos.machined.reset import ENV_STATE_WIPED

if TYPE_CHECKING:
    from talos.machined.node import Node


def seed(node: Node) -> str | None:
    """The `--config` file to seed STATE with, unless a reset wiped STATE since."""
    if os.environ.get(ENV_STATE_WIPED):
        return None
    return node.config_path


def register_controllers(node: Node) -> None:
    from talos.machined.controllers import register_all
    register_all(node)


async def enter(node: Node) -> None:
    from talos.machined.maintenance.server import start

    await node.machine_stage.publish(machine_status(
        "maintenance", unmet=(("config", "no machine config: apply one"),)))
    if node.maintenance_listen:
        node.maintenance_server = await start(node, node.maintenance_listen)


async def leave(node: Node) -> None:
    server, node.maintenance_server = node.maintenance_server, None
    if server is not None:
        await server.stop(grace=0.5)
