"""Helper processes of a local cluster (discovery service, registry) that the provisioner
starts detached and later stops by pid: each carries a marker variable in its environment,
checked before any signal so a reused pid is never hit."""

from __future__ import annotations

import contextlib
import os
import signal
import time


def carries(pid: int, marker: str) -> bool:
    """Does process `pid` carry `marker` (`NAME=value`) in its environment?"""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return marker.encode() in f.read().split(b"\0")
    except OSError:
        return False


def stop(pid: int, marker: str, timeout: float = 5.0) -> None:
    """SIGTERM `pid` (SIGKILL after `timeout`) if it still carries `marker`; reaped when it
    is our child."""
    if not pid or not carries(pid, marker):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while carries(pid, marker) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.02)
    if carries(pid, marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
