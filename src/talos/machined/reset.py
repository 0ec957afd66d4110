"""Reset plans: what a ResetRequest wipes, checked before anything is stopped (the sequence
itself is `sequencer.sequences.reset`: leave etcd (graceful), stop services in order, wipe
what the request's wipe mode names, then reboot or power off). A node whose STATE was
wiped comes back in maintenance mode: the `--config` file it was first started with is not
used again (`ENV_STATE_WIPED`).

Wipe modes are Talos's `ResetRequest.WipeMode` (as machined does it in v1.11+):

- `ALL` (the default): the system disk (every system label, or only the labels in
  `system_partitions_to_wipe`) and the user disks named in `user_disks_to_wipe`;
- `SYSTEM_DISK`: the system disk only; naming user disks is refused;
- `USER_DISKS`: the user disks named in `user_disks_to_wipe` only; STATE and EPHEMERAL are
  never touched and naming system labels is refused. With no user disks named there is
  nothing to wipe: the node still leaves etcd (graceful), stops its services and reboots or
  powers off, keeping its config and identity (upstream does the same).

A sandbox node's system disk is its STATE and EPHEMERAL directories; it has no user disks,
so naming one is refused (FailedPrecondition) before anything is stopped.
"""

from __future__ import annotations

import contextlib
import enum
import os
import shutil
from dataclasses import dataclass

from talos.machinery.errors import FailedPrecondition, InvalidArgument

#: set in machined's environment once STATE was wiped, so a re-executed machined does not
#: seed STATE from its `--config` argument again
ENV_STATE_WIPED = "TALOS_MACHINED_STATE_WIPED"

STATE = "STATE"
EPHEMERAL = "EPHEMERAL"
#: system partition labels a sandbox node has (Talos also has META, BOOT, EFI: not here)
LABELS = (STATE, EPHEMERAL)


class WipeMode(enum.IntEnum):
    """`machine.ResetRequest.WipeMode` (same numbers)."""

    ALL = 0
    SYSTEM_DISK = 1
    USER_DISKS = 2


@dataclass(frozen=True)
class ResetPlan:
    graceful: bool
    reboot: bool
    #: system labels to wipe, in order (empty: the system disk is kept)
    wipe: tuple[str, ...]
    mode: WipeMode = WipeMode.ALL

    def describe(self) -> str:
        """What this reset wipes, for the log."""
        if self.wipe:
            return f"wipe mode {self.mode.name}: wiping {', '.join(self.wipe)}"
        if self.mode is WipeMode.USER_DISKS:
            return ("wipe mode USER_DISKS: no user disks to wipe (none named, and this node "
                    "has none): nothing is wiped, STATE and EPHEMERAL are kept")
        return f"wipe mode {self.mode.name}: no system partition selected: nothing is wiped"


def plan(graceful: bool, reboot: bool, labels: list[tuple[str, bool]],
         user_disks: list[str], mode: int = WipeMode.ALL) -> ResetPlan:
    """Check a ResetRequest against what this node has, before anything is stopped.

    `labels` are `system_partitions_to_wipe` (label, wipe); empty means every system label
    (for the modes that wipe the system disk)."""
    try:
        wipe_mode = WipeMode(mode)
    except ValueError:
        raise InvalidArgument(f"mode: unknown wipe mode {mode} (expected ALL, SYSTEM_DISK or "
                              "USER_DISKS)") from None
    if user_disks and wipe_mode is WipeMode.SYSTEM_DISK:
        raise InvalidArgument("user_disks_to_wipe: wipe mode SYSTEM_DISK doesn't support "
                              "user disks to wipe (use wipe mode ALL or USER_DISKS)")
    if labels and wipe_mode is WipeMode.USER_DISKS:
        raise InvalidArgument("system_partitions_to_wipe: wipe mode USER_DISKS doesn't "
                              "support system partitions to wipe (use wipe mode ALL or "
                              "SYSTEM_DISK)")
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
    if wipe_mode is WipeMode.USER_DISKS:
        return ResetPlan(graceful, reboot, (), wipe_mode)
    return ResetPlan(graceful, reboot, tuple(wipe) if labels else LABELS, wipe_mode)


def empty_directory(path: str) -> None:
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

