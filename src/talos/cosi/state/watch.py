"""One watcher's view: a bounded buffer fed by the state, read as an async iterator.

Writers never wait for a watcher. When a watcher falls `limit` events behind, the watch is
cut: it delivers what it buffered, then one ERRORED event saying it overflowed, then ends;
the client must list again and start a new watch. Nothing is ever dropped silently.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType

from talos.cosi.state.events import Event, EventType


class Watch:
    def __init__(self, limit: int, initial: Iterable[Event] = ()) -> None:
        if limit < 1:
            raise ValueError("watch buffer limit must be >= 1")
        self._limit = limit
        self._buf: deque[Event] = deque(initial)
        self._live = 0  # events in _buf that count against the limit
        self._initial = len(self._buf)
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._unsubscribe: Callable[[], None] | None = None
        self.overflowed = False

    # -- producer side (called synchronously by the state) --------------------------------
    def _attach(self, unsubscribe: Callable[[], None]) -> None:
        self._unsubscribe = unsubscribe

    def _push(self, ev: Event) -> None:
        if self._closed:
            return
        if self._live >= self._limit:
            self.overflowed = True
            self._buf.append(Event(EventType.ERRORED, error=(
                f"watch buffer overflow: the watcher fell more than {self._limit} events "
                "behind; list again and start a new watch")))
            self._finish()
            return
        self._buf.append(ev)
        self._live += 1
        w = self._waiter  # _wake, inlined: this runs once per event per watcher
        if w is not None and not w.done():
            w.set_result(None)

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _finish(self) -> None:
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._wake()

    # -- consumer side --------------------------------------------------------------------
    def close(self) -> None:
        """Stop watching (idempotent); buffered events are discarded."""
        self._buf.clear()
        self._finish()

    def pending(self) -> int:
        return len(self._buf)

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> Event:
        while True:
            if self._buf:
                ev = self._buf.popleft()
                if self._initial:
                    self._initial -= 1
                else:
                    self._live -= 1
                return ev
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def next(self) -> Event:
        """The next event (StopAsyncIteration when the watch ended)."""
        return await self.__anext__()

    def drain(self) -> list[Event]:
        """Take every buffered event without waiting."""
        out: list[Event] = []
        while self._buf:
            out.append(self._buf.popleft())
        self._initial = 0
        self._live = 0
        return out

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.close()
