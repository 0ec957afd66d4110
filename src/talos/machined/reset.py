"""Reset: leave etcd (graceful), stop services in order, wipe STATE and/or EPHEMERAL, then
reboot or power off. A node whose STATE was wiped comes back in maintenance mode: the
`--config` file it was first started with is not used again (`ENV_STATE_WIPED`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from talos.machined import machine_status
from talos.machined.sequencer import Phase, Sequence, Task
from talos.machinery.errors import FailedPrecondition, InvalidArgument

if TYPE_CHECKING:
    from talos.machined.node import Node

log = logging.getLogger(__name__)

#: set in machined's environment once STATE was wiped, so a re-executed machined does not
#: seed STATE from its `--config` argument again
ENV_STATE_WIPED = "TALOS_MACHINED_STATE_WIPED"

STATE = "STATE"
EPHEMERAL = "EPHEMERAL"
#: system partition labels a sandbox node has (Talos also has META, BOOT, EFI: not here)
LABELS = (STATE, EPHEMERAL)


@dataclass(frozen=True)
class ResetPlan:
    graceful: bool
    reboot: bool
    wipe: tuple[str, ...]


def plan(graceful: bool, reboot: bool, labels: list[tuple[str, bool]],
         user_disks: list[str]) -> ResetPlan:
    """Check a ResetRequest: labels must be ones this node has; empty means all of them."""
    if user_disks:
        raise FailedPrecondition("user_disks_to_wipe: this node has no user disks "
                                 f"({', '.join(user_disks)} cannot be wiped here)")
    wipe: list[str] = []
    for label, do_wipe in labels:
        if label not in LABELS:
            raise InvalidArgument(f"system_partitions_to_wipe: unknown label {label!r} "
                                  f"(expected one of {', '.join(LABELS)})")
        if do_wipe and label not in wipe:
            wipe.append(label)
    return ResetPlan(graceful, reboot, tuple(wipe) if labels else LABELS)


def _empty_directory(path: str) -> None:
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return
    for name in names:
        p = os.path.join(path, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)


def reset_sequence(node: Node, p: ResetPlan) -> Sequence:
    async def leave_etcd() -> None:
        if node.etcd is not None:
            await node.etcd.leave_if_member()

    async def stop_services() -> None:
        await machine_status.publish(node.state, "resetting")
        order = await node.supervisor.stop_all()
        log.info("reset: services stopped in order: %s", ", ".join(order))

    async def wipe(label: str) -> None:
        path = node.paths.state if label == STATE else node.paths.ephemeral
        await asyncio.to_thread(_empty_directory, path)
        log.info("reset: wiped %s (%s)", label, path)
        if label == STATE:
            os.environ[ENV_STATE_WIPED] = "1"

    async def finish() -> None:
        from talos.machined.node import ExitAction
        node.request_exit(ExitAction.REBOOT if p.reboot else ExitAction.POWEROFF)

    phases = []
    if p.graceful:
        phases.append(Phase("leaveEtcd", (Task("leaveEtcd", leave_etcd),)))
    phases.append(Phase("stopServices", (Task("stopAllServices", stop_services),)))
    if p.wipe:
        phases.append(Phase("wipe", tuple(
            Task(f"wipe{label.capitalize()}", lambda label=label: wipe(label))  # type: ignore[misc]
            for label in p.wipe)))
    phases.append(Phase("exit", (Task("reboot" if p.reboot else "powerOff", finish),)))
    return Sequence("reset", tuple(phases), terminal=True)
