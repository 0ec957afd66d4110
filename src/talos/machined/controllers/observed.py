"""The pass loop of a controller that publishes an `Observed` value (a fact machined's
imperative side sets: the stage, the running config, the etcd member ID)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from talos.cosi.context import ControllerContext
from talos.machined.observed import Observed

T = TypeVar("T")


async def follow(r: ControllerContext, source: Observed[T],
                 write: Callable[[T], Awaitable[None]]) -> None:
    """Write the value now and after every change (also when an output of ours becomes
    ready to destroy); each version written releases who waits for it in `publish`."""
    source.bind()
    unsubscribe = source.subscribe(r.wake)
    try:
        async for _ in r.wake_ups():
            value, version = source.read()
            await write(value)
            source.written(version)
    finally:
        unsubscribe()


async def put_or_destroy(r: ControllerContext, ns: str, type: str, id: str,
                         spec: object | None) -> None:
    """The output `ns/type/id` with `spec`, or torn down and destroyed when None (once no
    finalizer holds it: the controller is woken again then)."""
    if spec is not None:
        await r.put(ns, type, id, spec)
        return
    cur = await r.get(ns, type, id)
    if cur is not None and await r.teardown(cur.pointer):
        await r.destroy(cur.pointer)
