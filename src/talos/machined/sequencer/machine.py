"""What a sequence may do to the node: the narrow interface the sequences receive.

`talos.machined.node.Node` implements it; the sequences (`sequences.py`) know nothing else
about the node, so a new sequence (install, upgrade) adds the few operations it needs here.
"""

from __future__ import annotations

import enum
from typing import Protocol

from talos.machined.paths import NodePaths


class ExitAction(enum.Enum):
    """What the machined process does once its last sequence ended."""

    POWEROFF = "poweroff"
    REBOOT = "reboot"


class Machine(Protocol):
    @property
    def paths(self) -> NodePaths:
        """The node's directories (STATE, EPHEMERAL, ...)."""
        ...

    async def load_config(self) -> None:
        """Make the persisted config (or the seed) the running one; none: maintenance."""

    async def set_hostname(self) -> None:
        """The kernel hostname from the running config (node sandboxes only)."""

    async def register_services(self) -> None:
        """Hand the supervisor the services of this machine type."""

    async def start_services(self) -> None:
        """Start every registered service (each waits for its dependencies)."""

    async def stop_services(self) -> list[str]:
        """Stop every service, dependents first; returns the order they stopped in."""

    async def publish_stage(self, stage: str, *, ready: bool = False) -> None:
        """The node's stage as `MachineStatus` shows it (returns once it is published)."""

    async def leave_etcd(self) -> None:
        """Leave the etcd cluster if this node is a member (graceful reset)."""

    def boot_done(self) -> None:
        """Boot finished: the node is up."""

    def request_exit(self, action: ExitAction) -> None:
        """End machined with `action` once the sequence is over."""
