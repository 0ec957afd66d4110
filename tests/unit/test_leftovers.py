"""The leftovers check of the node and cluster fixtures (tests/leftovers.py) names what a
test left behind: its own child, and an orphan that escaped it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.leftovers import alive, nothing_left, proc_info


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def test_a_child_left_running_is_named() -> None:
    proc = None
    try:
        with pytest.raises(AssertionError, match=r"left behind: process pid \d+ \(sleep 1000"):
            with nothing_left(what="the block", settle=0.2):
                proc = subprocess.Popen(["sleep", "1000"])
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()


def test_an_orphan_carrying_the_marker_is_named(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    orphan = 0
    try:
        with pytest.raises(AssertionError, match=r"left behind: process pid \d+ \(sleep"):
            with nothing_left(tmp_path, what="the block", settle=0.2):
                # the shell exits at once: its sleep is re-parented away from this process
                script = f"MARK={tmp_path} sleep 1000 & echo $! > {pidfile}"
                subprocess.run(["sh", "-c", script], check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                orphan = int(pidfile.read_text())
    finally:
        if orphan:
            _kill(orphan)


def test_a_block_that_cleans_up_passes_and_its_own_failure_is_kept() -> None:
    with nothing_left():
        subprocess.run(["true"], check=True)
    proc = subprocess.Popen(["sleep", "1000"])
    info = proc_info(proc.pid)
    try:
        with pytest.raises(RuntimeError) as caught:
            with nothing_left(settle=0.2):
                proc2 = subprocess.Popen(["sleep", "1001"])
                try:
                    raise RuntimeError("the test's own failure")
                finally:
                    time.sleep(0)  # (proc2 deliberately left for the check)
        assert any("sleep 1001" in n for n in caught.value.__notes__)
        proc2.kill()
        proc2.wait()
    finally:
        proc.kill()
        proc.wait()
    assert info is not None and not alive(info)
