"""The sandbox firmware's boot loop with real namespaces and a stand-in node.

Instead of stage 0 the firmware runs a small shell program (in the same `setpriv` +
`unshare --pid --fork --mount --uts` it gives machined) that plays one scripted part per
boot: `reboot` (exits REBOOT_EXIT_CODE), `crash` (exits 3), `off` (exits 0), `hang` (never
comes up; leaves on SIGTERM). Each boot appends the squashfs it was handed to a file, so
the test sees which slot every boot got. No image is needed: the decisions about the
squashfs are stage 0's (tests/image/test_sandbox_image.py)."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from talos.machinery import bootslots, constants
from talos.provision import firmware
from tests.leftovers import nothing_left_async

pytestmark = [pytest.mark.e2e, pytest.mark.root,
              pytest.mark.requires("unshare", "setpriv")]

A = bootslots.SlotImage("v1.0.0", "sha256:" + "a" * 64)
B = bootslots.SlotImage("v1.1.0", "sha256:" + "b" * 64)

NODE = """#!/bin/sh
# one scripted part per boot: the first line of $PARTS, removed once taken
dir=$(dirname "$0")
echo "$TALOS_SANDBOX_IMAGE" >> "$dir/boots"
part=$(head -n 1 "$dir/parts")
tail -n +2 "$dir/parts" > "$dir/parts.next" && mv "$dir/parts.next" "$dir/parts"
case "$part" in
  reboot) exit {reboot} ;;
  crash) exit 3 ;;
  off) exit 0 ;;
  hang) trap 'exit 0' TERM; echo hanging > "$dir/hanging"; sleep 1000 & wait ;;
esac
exit 4
"""


def _node(tmp_path: Path, parts: list[str], record: bootslots.BootRecord) -> Path:
    node = tmp_path / "node"
    for sub in ("state", "ephemeral", "rootfs", "boot"):
        (node / sub).mkdir(parents=True)
    bootslots.save(node / "boot", record)
    program = tmp_path / "fake-python"
    program.write_text(NODE.format(reboot=constants.REBOOT_EXIT_CODE))
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "parts").write_text("".join(f"{p}\n" for p in parts))
    return node


def _boots(tmp_path: Path) -> list[str]:
    path = tmp_path / "boots"
    return [os.path.basename(os.path.dirname(line))
            for line in path.read_text().split()] if path.exists() else []


async def _until_hanging(tmp_path: Path) -> None:
    """Until the stand-in node runs its `hang` part (a bound, not a timing requirement)."""
    for _ in range(1200):
        if (tmp_path / "hanging").exists():
            return
        await asyncio.sleep(0.05)
    pytest.fail("the firmware did not boot the stand-in node within 60s")


async def _run(tmp_path: Path, node: Path, env: dict[str, str] | None = None
               ) -> tuple[int, firmware.Firmware]:
    fw = firmware.Firmware(firmware.NodeDir(node), python=str(tmp_path / "fake-python"),
                           env={"PATH": os.environ["PATH"], **(env or {})},
                           handle_signals=False)
    return await asyncio.wait_for(fw.run(), 120), fw


async def test_reboot_boots_again_a_crash_boots_again_after_backoff_power_off_ends(tmp_path,
                                                                                   caplog):
    node = _node(tmp_path, ["reboot", "crash", "off"], bootslots.initial(A))
    caplog.set_level("INFO", logger="talos.firmware")
    async with nothing_left_async(tmp_path):
        code, _fw = await _run(tmp_path, node)
    assert code == 0
    assert _boots(tmp_path) == ["A", "A", "A"]
    text = caplog.text
    assert "the node rebooted" in text
    assert "machined exited with 3" in text and "(crash 1 in a row)" in text
    assert "the node powered off" in text
    assert text.count("booting slot A: v1.0.0") == 3


async def test_watchdog_restarts_a_trial_boot_not_marked_good_and_the_fallback_boots(
        tmp_path, caplog):
    upgraded = bootslots.installed(bootslots.initial(A), "B", B)
    node = _node(tmp_path, ["hang", "off"], upgraded)
    caplog.set_level("INFO", logger="talos.firmware")
    async with nothing_left_async(tmp_path):
        code, _fw = await _run(tmp_path, node, {firmware.ENV_TRIAL_SECONDS: "1"})
    assert code == 0
    assert _boots(tmp_path) == ["B", "A"]
    assert "watchdog: slot B was not marked good within 1s" in caplog.text
    assert "falling back to slot A (v1.0.0)" in caplog.text
    record = bootslots.load(node / "boot")
    assert (record.default, record.fallback, record.on_trial) == ("A", "B", False)


async def test_a_boot_marked_good_in_time_is_left_alone_by_the_watchdog(tmp_path, caplog):
    upgraded = bootslots.installed(bootslots.initial(A), "B", B)
    node = _node(tmp_path, ["hang"], upgraded)
    caplog.set_level("INFO", logger="talos.firmware")
    async with nothing_left_async(tmp_path):
        fw = firmware.Firmware(firmware.NodeDir(node), python=str(tmp_path / "fake-python"),
                               env={"PATH": os.environ["PATH"],
                                    firmware.ENV_TRIAL_SECONDS: "1"},
                               handle_signals=False)
        task = asyncio.create_task(fw.run())
        await _until_hanging(tmp_path)
        # what machined does once the node is healthy
        bootslots.save(node / "boot", bootslots.mark_good(bootslots.load(node / "boot")))
        await asyncio.sleep(1.5)  # past the trial bound
        assert not task.done()
        fw.request_stop()
        assert await asyncio.wait_for(task, 60) == 0
    assert _boots(tmp_path) == ["B"]
    assert "watchdog" not in caplog.text


async def test_stop_request_stops_the_node_gracefully_and_boots_no_more(tmp_path, caplog):
    node = _node(tmp_path, ["hang", "off"], bootslots.initial(A))
    caplog.set_level("INFO", logger="talos.firmware")
    async with nothing_left_async(tmp_path):
        fw = firmware.Firmware(firmware.NodeDir(node), python=str(tmp_path / "fake-python"),
                               env={"PATH": os.environ["PATH"]}, handle_signals=False)
        task = asyncio.create_task(fw.run())
        await _until_hanging(tmp_path)
        fw.request_stop()
        assert await asyncio.wait_for(task, 60) == 0
    assert _boots(tmp_path) == ["A"]
    assert "did not stop" not in caplog.text  # the node handled SIGTERM: no SIGKILL
    assert "stopped" in caplog.text
