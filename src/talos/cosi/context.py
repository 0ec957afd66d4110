"""What a running controller may do: read its inputs, write its outputs, wait for changes.

Reads are limited to declared inputs and outputs, writes to declared outputs (as the
controller's owner name), finalizers to declared inputs. Anything else raises
PermissionDenied naming the controller and the type.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from talos.cosi.clock import Clock, SystemClock
from talos.cosi.declaration import Declaration, Input, InputKind
from talos.cosi.resource import Phase, Pointer, Resource
from talos.cosi.state import EVERYTHING, Event, Query, State
from talos.machinery.errors import PermissionDenied


class ControllerContext:
    def __init__(self, controller: Declaration, state: State,
                 clock: Clock | None = None) -> None:
        self.name = controller.name
        self._clock: Clock = clock or SystemClock()
        self._requeue: float | None = None
        self._inputs = tuple(controller.inputs)
        self._output_types = {o.type for o in controller.outputs}
        self._state = state
        self._wake = asyncio.Event()
        self._wake.set()  # the first pass runs without waiting
        self._unsubscribe: list[Callable[[], None]] = []
        self._touched: set[Pointer] | None = None
        #: a pass completed since the last (re)start: the supervisor resets its back-off
        self.completed_pass = False
        self.passes = 0
        self._parked = False  # inside wake_ups, waiting for the next pass
        self._idle_listeners: list[Callable[[], None]] = []

    # ---- lifecycle (runtime side) -------------------------------------------------------
    def attach(self) -> None:
        for inp in self._inputs:
            self._unsubscribe.append(
                self._state.subscribe(inp.namespace, inp.type, self._input_callback(inp)))
        for t in self._output_types:
            self._unsubscribe.append(self._state.subscribe_type(t, self._on_output))

    def detach(self) -> None:
        for u in self._unsubscribe:
            u()
        self._unsubscribe.clear()

    def restarted(self) -> None:
        self.completed_pass = False
        self._touched = None
        self._wake.set()

    def _input_callback(self, inp: Input) -> Callable[[Event], None]:
        def on_event(ev: Event) -> None:
            r = ev.resource
            if r is None or (inp.id is not None and r.id != inp.id):
                return
            if inp.kind is InputKind.DESTROY_READY and not _destroy_ready(r):
                return
            self._wake.set()
        return on_event

    def _on_output(self, ev: Event) -> None:
        # our own torn-down outputs becoming finalizer-free: time to finish destroying them
        r = ev.resource
        if r is not None and r.metadata.owner == self.name and _destroy_ready(r):
            self._wake.set()

    # ---- waking -------------------------------------------------------------------------
    async def wake_ups(self) -> AsyncIterator[None]:
        """One item per pass: now, then whenever inputs changed (changes that arrive while
        a pass runs are coalesced into one more pass; no debounce delay)."""
        while True:
            delay, self._requeue = self._requeue, None
            self._parked = True
            if self._idle_listeners and not self._wake.is_set():
                for listener in tuple(self._idle_listeners):
                    listener()
            try:
                if delay is not None and not self._wake.is_set():
                    await self._wait_or_sleep(delay)
                else:
                    await self._wake.wait()
            finally:
                self._parked = False
            self._wake.clear()
            yield None
            self.passes += 1
            self.completed_pass = True

    async def _wait_or_sleep(self, delay: float) -> None:
        waiter = asyncio.ensure_future(self._wake.wait())
        sleeper = asyncio.ensure_future(self._clock.sleep(delay))
        try:
            await asyncio.wait((waiter, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (waiter, sleeper):
                t.cancel()
            await asyncio.gather(waiter, sleeper, return_exceptions=True)

    @property
    def idle(self) -> bool:
        """Waiting for a change (or a requeue) with no pass pending."""
        return self._parked and not self._wake.is_set()

    def on_idle(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` each time the controller becomes idle (tests wait on it, see
        `talos.cosi.testing`); returns the function that removes it."""
        self._idle_listeners.append(listener)
        return lambda: self._idle_listeners.remove(listener)

    def wake(self) -> None:
        """Ask for another pass now."""
        self._wake.set()

    def requeue_after(self, seconds: float) -> None:
        """Run another pass after `seconds` (on the runtime's clock) even if no input
        changes; an input change before then runs it sooner. Applies to the next wait."""
        self._requeue = seconds if self._requeue is None else min(self._requeue, seconds)

    # ---- reads --------------------------------------------------------------------------
    def _check_read(self, ns: str, type: str, id: str | None) -> None:
        if type in self._output_types:
            return
        for inp in self._inputs:
            if inp.namespace == ns and inp.type == type and (inp.id is None or inp.id == id):
                return
        raise PermissionDenied(
            f"controller {self.name}: {ns}/{type}{'/' + id if id else ''} is not a declared "
            "input or output")

    async def get(self, ns: str, type: str, id: str) -> Resource | None:
        self._check_read(ns, type, id)
        return self._state.get_nowait(ns, type, id)

    async def list(self, ns: str, type: str, query: Query = EVERYTHING) -> list[Resource]:
        self._check_read(ns, type, None)
        return self._state.list_nowait(ns, type, query)

    # ---- writes -------------------------------------------------------------------------
    def _check_write(self, type: str) -> None:
        if type not in self._output_types:
            raise PermissionDenied(
                f"controller {self.name}: {type} is not a declared output; declared: "
                f"{', '.join(sorted(self._output_types)) or 'none'}")

    async def put(self, ns: str, type: str, id: str, spec: Any, *,
                  labels: Mapping[str, str] | None = None,
                  annotations: Mapping[str, str] | None = None) -> Resource:
        """Create or update an output owned by this controller with `spec` (`modify` with
        a transform that ignores the current spec)."""
        return await self.modify(ns, type, id, lambda _: spec, labels=labels,
                                 annotations=annotations)

    async def modify(self, ns: str, type: str, id: str, transform: Callable[[Any], Any], *,
                     labels: Mapping[str, str] | None = None,
                     annotations: Mapping[str, str] | None = None) -> Resource:
        """Create or update an output owned by this controller (cosi-project's
        `safe.WriterModify`): `transform(current spec, or None when it does not exist)`
        returns the wanted spec; unchanged content is not rewritten (no new version).
        Records the resource as touched in this pass."""
        self._check_write(type)
        ptr = Pointer(ns, type, id)
        if self._touched is not None:
            self._touched.add(ptr)
        cur = self._state.get_nowait(ns, type, id)
        spec = transform(None if cur is None else cur.spec)
        if cur is None:
            return await self._state.create(
                Resource.new(ns, type, id, spec, labels=labels, annotations=annotations),
                owner=self.name)
        md = cur.metadata
        if (cur.spec == spec and md.owner == self.name
                and _same_map(md.labels, labels) and _same_map(md.annotations, annotations)):
            return cur
        return await self._state.update(
            Resource(md.evolve(labels=labels or {}, annotations=annotations or {}), spec),
            owner=self.name)

    async def teardown(self, ptr: Pointer) -> bool:
        self._check_write(ptr.type)
        return await self._state.teardown(ptr, owner=self.name)

    async def destroy(self, ptr: Pointer) -> None:
        self._check_write(ptr.type)
        await self._state.destroy(ptr, owner=self.name)

    async def add_finalizer(self, ptr: Pointer, *finalizers: str) -> None:
        self._check_finalizer(ptr)
        await self._state.add_finalizer(ptr, *finalizers)

    async def remove_finalizer(self, ptr: Pointer, *finalizers: str) -> None:
        self._check_finalizer(ptr)
        await self._state.remove_finalizer(ptr, *finalizers)

    def _check_finalizer(self, ptr: Pointer) -> None:
        for inp in self._inputs:
            if (inp.namespace, inp.type) == (ptr.namespace, ptr.type):
                return
        raise PermissionDenied(f"controller {self.name}: {ptr.type} is not a declared input; "
                               "finalizers go on inputs only")

    # ---- touch, then clean up -------------------------------------------------------------
    def start_tracking_outputs(self) -> None:
        """Begin a pass: every `put` from now on marks its resource as still wanted."""
        self._touched = set()

    async def cleanup_outputs(self) -> int:
        """Tear down and destroy this controller's outputs not touched since
        `start_tracking_outputs`. Outputs still held by finalizers stay torn down and are
        destroyed in a later pass (the controller is woken when they become ready).
        Returns how many were destroyed now."""
        touched = self._touched or set()
        destroyed = 0
        for ns, type in list(self._state.kinds()):
            if type not in self._output_types:
                continue
            for r in self._state.list_nowait(ns, type):
                if r.metadata.owner != self.name or r.pointer in touched:
                    continue
                ready = (not r.metadata.finalizers if r.metadata.phase is Phase.TEARING_DOWN
                         else await self._state.teardown(r.pointer, owner=self.name))
                if ready:
                    await self._state.destroy(r.pointer, owner=self.name)
                    destroyed += 1
        self._touched = None
        return destroyed


def _same_map(have: Mapping[str, str], want: Mapping[str, str] | None) -> bool:
    return dict(have) == dict(want) if want else not have


def _destroy_ready(r: Resource) -> bool:
    return r.metadata.phase is Phase.TEARING_DOWN and not r.metadata.finalizers
