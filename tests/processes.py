"""Stopping a process a test started: SIGTERM, then SIGKILL after a grace period."""

from __future__ import annotations

import asyncio
import signal


async def terminate(proc: asyncio.subprocess.Process, grace: float = 30.0) -> int:
    """SIGTERM `proc` (if still running), SIGKILL it after `grace` seconds; its exit status."""
    if proc.returncode is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        proc.kill()
        return await proc.wait()
