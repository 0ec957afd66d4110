"""Waiting on a dashboard driven by textual's pilot: bounded, failing with what the screen
showed (never judged by time)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from textual.pilot import Pilot

#: bound on waiting for the screen to show something (not a timing requirement)
WAIT = 90.0


async def until(pilot: Pilot[int], what: str, ok: Callable[[], bool],
                seen: Callable[[], object], *, step: float = 0.1) -> None:
    """Let the app run until `ok()`; fail naming `what` and showing `seen()` after WAIT s."""
    deadline = time.monotonic() + WAIT
    while not ok():
        if time.monotonic() > deadline:
            pytest.fail(f"waited for {what}; the screen has: {seen()}")
        await pilot.pause(step)
