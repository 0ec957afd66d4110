"""What a ResetRequest wipes on a node whose system disk is STATE and EPHEMERAL and that has
no user disks, per wipe mode (Talos's ResetRequest.WipeMode), and what is refused."""

from __future__ import annotations

import pytest

from talos.api.machine import machine_pb2 as m
from talos.machined.reset import WipeMode, plan
from talos.machinery.errors import FailedPrecondition, InvalidArgument


def test_wipe_mode_numbers_are_the_api_numbers() -> None:
    assert {w.name: w.value for w in WipeMode} == dict(m.ResetRequest.WipeMode.items())


@pytest.mark.parametrize(("mode", "labels", "wiped"), [
    (WipeMode.ALL, [], ("STATE", "EPHEMERAL")),
    (WipeMode.SYSTEM_DISK, [], ("STATE", "EPHEMERAL")),
    (WipeMode.USER_DISKS, [], ()),
    (WipeMode.ALL, [("EPHEMERAL", True)], ("EPHEMERAL",)),
    (WipeMode.SYSTEM_DISK, [("STATE", True), ("EPHEMERAL", False)], ("STATE",)),
])
def test_each_mode_wipes_what_it_names(mode: WipeMode, labels: list[tuple[str, bool]],
                                       wiped: tuple[str, ...]) -> None:
    assert plan(True, False, labels, [], mode).wipe == wiped


def test_user_disks_mode_says_that_nothing_is_wiped() -> None:
    assert plan(False, True, [], [], WipeMode.USER_DISKS).describe() == (
        "wipe mode USER_DISKS: no user disks to wipe (none named, and this node has none): "
        "nothing is wiped, STATE and EPHEMERAL are kept")


@pytest.mark.parametrize(("mode", "labels", "disks", "error", "message"), [
    (WipeMode.SYSTEM_DISK, [], ["/dev/sdb"], InvalidArgument,
     "user_disks_to_wipe: wipe mode SYSTEM_DISK doesn't support user disks to wipe"),
    (WipeMode.USER_DISKS, [("STATE", True)], [], InvalidArgument,
     "system_partitions_to_wipe: wipe mode USER_DISKS doesn't support system partitions"),
    (WipeMode.USER_DISKS, [], ["/dev/sdb"], FailedPrecondition,
     "user_disks_to_wipe: this node has no user disks (/dev/sdb cannot be wiped here)"),
    (WipeMode.ALL, [("META", True)], [], InvalidArgument,
     "system_partitions_to_wipe: unknown label 'META' (expected one of STATE, EPHEMERAL)"),
    (7, [], [], InvalidArgument,
     "mode: unknown wipe mode 7 (expected ALL, SYSTEM_DISK or USER_DISKS)"),
])
def test_what_the_node_cannot_honour_is_refused(mode: int, labels: list[tuple[str, bool]],
                                                disks: list[str], error: type[Exception],
                                                message: str) -> None:
    with pytest.raises(error) as e:
        plan(True, True, labels, disks, mode)
    assert message in str(e.value)
