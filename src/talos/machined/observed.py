"""A value machined's imperative side sets and one controller publishes as a resource.

Some facts start outside the resource state: the stage a sequence reached, the config the
applier made the running one, the member ID the etcd manager got. Each is an `Observed`
value; its controller (declared with its outputs, so it shows in `inspect dependencies`) is
woken on every change and writes the resource. `publish` waits until the controller has
written the value, so a caller that reads the resource next sees it (as when the write was
direct); with no controller bound to it (a unit without a runtime) it returns at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Observed(Generic[T]):
    def __init__(self, initial: T) -> None:
        self._value = initial
        self._version = 0
        self._listeners: list[Callable[[], None]] = []
        self._bound = False
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    @property
    def value(self) -> T:
        return self._value

    def read(self) -> tuple[T, int]:
        """The value and its version (for `written`)."""
        return self._value, self._version

    def set(self, value: T) -> int:
        """Change the value and wake the controller; returns the new version."""
        self._value = value
        self._version += 1
        for listener in tuple(self._listeners):
            listener()
        return self._version

    async def publish(self, value: T) -> None:
        """`set`, then wait until the controller has written this version."""
        version = self.set(value)
        if not self._bound:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((version, fut))
        await fut

    def written(self, version: int) -> None:
        """The controller wrote `version`: release who waits for it (or an older one)."""
        keep = []
        for v, fut in self._waiters:
            if v <= version:
                if not fut.done():
                    fut.set_result(None)
            else:
                keep.append((v, fut))
        self._waiters = keep

    def bind(self) -> None:
        """A controller publishes this value (called when it is built, before it runs: a
        `publish` meanwhile waits for its first pass)."""
        self._bound = True

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` on every change; returns the function that removes it (the last
        one gone releases every waiter: nobody will write their versions)."""
        self._listeners.append(listener)

        def remove() -> None:
            self._listeners.remove(listener)
            if not self._listeners:
                self.written(self._version)
        return remove
