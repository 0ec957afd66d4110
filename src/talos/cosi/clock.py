"""Time as the runtime sees it: the real clock, or a fake one tests advance by hand."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeClock:
    """A clock that only moves when `advance` is called.

    `sleeps` records every requested duration; `wait_sleepers(n)` lets a test wait until n
    tasks are asleep, so tests synchronize on events, never on real time.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._changed = asyncio.Event()
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (self._now + max(seconds, 0.0), next(self._seq), fut))
        self._changed.set()
        await fut

    @property
    def sleepers(self) -> int:
        return sum(1 for _, _, f in self._heap if not f.done())

    async def wait_sleepers(self, n: int) -> None:
        while self.sleepers < n:
            self._changed.clear()
            await self._changed.wait()

    def advance(self, seconds: float) -> None:
        self._now += seconds
        while self._heap and self._heap[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._heap)
            if not fut.done():
                fut.set_result(None)
