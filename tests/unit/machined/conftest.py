"""Shared fixtures of the machined unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from talos.cosi.clock import FakeClock
from talos.machined.system.reaper import Reaper
from talos.machined.system.supervisor import Supervisor
from tests.leftovers import nothing_left_async


@pytest.fixture
async def sup() -> AsyncIterator[Supervisor]:
    """A running supervisor with its own reaper (not reaping others' children) and a fake
    clock; every service is stopped afterwards, and none may leave a process behind."""
    reaper = Reaper(reap_all=False)
    async with nothing_left_async(what="the supervisor's services"):
        with reaper.installed(asyncio.get_running_loop()):
            s = Supervisor(reaper, FakeClock())
            task = asyncio.create_task(s.run())
            await s.ready()
            try:
                yield s
            finally:
                await s.stop_all()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
