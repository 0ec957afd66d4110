"""A harness for testing controllers: the real in-memory State and Runtime, a fake clock,
inputs in and outputs out (as Talos's `ctest` suite and COSI's `rtestutils` do).

    async with ControllerHarness(HostnameStatusController(default="node")) as h:
        await h.put(MACHINE_CONFIG, ACTIVE_ID, MachineConfigSpec(text))
        status = await h.until_output(HOSTNAME_STATUS, "hostname",
                                      lambda s: s.hostname == "cp-1")
        await h.destroy(MACHINE_CONFIG, ACTIVE_ID)
        await h.until_gone(...)        # or: await h.settled(); assert not h.outputs(...)
        await h.advance(64)            # wakes a controller sleeping on requeue_after

Every wait is signalled (state commits of the controllers' declared types, a controller
becoming idle, a crash, or `changed()` from an injected peer), never a sleep; it is bounded
by `timeout` seconds of real time and then fails naming what it waited for and what it saw.
A controller that raises (or returns) fails the waits at once and the test at teardown,
naming the controller and the error; pass `allow_crashes=True` to test restarts.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from talos.cosi.clock import FakeClock
from talos.cosi.context import ControllerContext
from talos.cosi.controller import Controller, Input, Output
from talos.cosi.resource import Pointer, Resource
from talos.cosi.runtime import Runtime
from talos.cosi.state import State
from talos.machinery.resources.definition import ResourceType

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0


class _Watched:
    """The controller as registered: same name and declarations; records how its run
    ended when it raised or returned (the runtime would restart it quietly)."""

    def __init__(self, controller: Controller, on_end: Callable[[str, BaseException | None],
                                                              None]) -> None:
        self.controller = controller
        self.name: str = controller.name
        self.inputs: tuple[Input, ...] = tuple(controller.inputs)
        self.outputs: tuple[Output, ...] = tuple(controller.outputs)
        self._on_end = on_end

    async def run(self, r: ControllerContext) -> None:
        try:
            await self.controller.run(r)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._on_end(self.name, exc)
            raise
        self._on_end(self.name, None)


class ControllerHarness:
    def __init__(self, *controllers: Controller, state: State | None = None,
                 clock: FakeClock | None = None, timeout: float = DEFAULT_TIMEOUT,
                 allow_crashes: bool = False) -> None:
        if not controllers:
            raise ValueError("ControllerHarness needs at least one controller")
        self.state = state if state is not None else State()
        self.clock = clock if clock is not None else FakeClock()
        self.timeout = timeout
        self.allow_crashes = allow_crashes
        self.runtime = Runtime(self.state, clock=self.clock)
        #: (controller name, what ended it) for each crash or return, in order
        self.crashes: list[tuple[str, str]] = []
        self._errors: list[BaseException] = []
        self._names = tuple(c.name for c in controllers)
        self._changed = asyncio.Event()
        self._unsubscribe: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None
        types: set[str] = set()
        for c in controllers:
            self.runtime.register(_Watched(c, self._ended))
            types.update(i.type for i in c.inputs)
            types.update(o.type for o in c.outputs)
        self._types = frozenset(types)

    # ---- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> ControllerHarness:
        for t in sorted(self._types):
            self._unsubscribe.append(self.state.subscribe_type(t, lambda _ev: self.changed()))
        for name in self._names:
            self._unsubscribe.append(self.runtime.context(name).on_idle(self.changed))
        self._task = asyncio.create_task(self.runtime.run(), name="controller-harness")
        return self

    async def __aexit__(self, et: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task  # the runtime stops every controller, then re-raises the cancel
            except asyncio.CancelledError:
                me = asyncio.current_task()
                if me is not None and me.cancelling():
                    raise  # the test itself is being cancelled: let it
        for u in self._unsubscribe:
            u()
        self._unsubscribe.clear()
        if self.crashes and not self.allow_crashes:
            problem = self._crash_text()
            if exc is not None:
                exc.add_note(problem)
                return
            raise AssertionError(problem) from self._errors[0] if self._errors else None

    def _ended(self, name: str, exc: BaseException | None) -> None:
        what = (f"{type(exc).__name__}: {exc}" if exc is not None
                else "its run returned (controllers run until cancelled)")
        self.crashes.append((name, what))
        if exc is not None:
            self._errors.append(exc)
        self.changed()

    def _crash_text(self) -> str:
        return "; ".join(f"controller {n} crashed: {w}" for n, w in self.crashes)

    # ---- inputs ---------------------------------------------------------------------------
    async def put(self, rt: ResourceType, id: str, spec: Any, *, namespace: str | None = None,
                  labels: Mapping[str, str] | None = None, owner: str = "") -> Resource:
        """Create or update an input resource (as its producer `owner` would)."""
        ns = namespace or rt.default_namespace
        cur = self.state.get_nowait(ns, rt.type, id)
        if cur is None:
            return await self.state.create(Resource.new(ns, rt.type, id, spec, labels=labels),
                                           owner=owner)
        md = cur.metadata.evolve(labels=labels) if labels is not None else cur.metadata
        return await self.state.update(Resource(md, spec), owner=owner)

    async def destroy(self, rt: ResourceType, id: str, *, namespace: str | None = None,
                      owner: str = "") -> None:
        """Tear an input down and destroy it once the controllers released it."""
        ptr = Pointer(namespace or rt.default_namespace, rt.type, id)
        async with asyncio.timeout(self.timeout):
            await self.state.teardown_and_destroy(ptr, owner=owner)

    def changed(self) -> None:
        """Something the waits depend on changed (call it from an injected peer's callback
        when a test waits on something outside the state)."""
        self._changed.set()

    # ---- outputs --------------------------------------------------------------------------
    def get(self, rt: ResourceType, id: str, *, namespace: str | None = None
            ) -> Resource | None:
        return self.state.get_nowait(namespace or rt.default_namespace, rt.type, id)

    def outputs(self, rt: ResourceType, *, namespace: str | None = None) -> dict[str, Any]:
        """id -> spec of every `rt` resource the controllers under test own."""
        return {r.id: r.spec
                for r in self.state.list_nowait(namespace or rt.default_namespace, rt.type)
                if r.metadata.owner in self._names}

    async def until_output(self, rt: ResourceType, id: str,
                           predicate: Callable[[Any], bool] | None = None, *,
                           namespace: str | None = None) -> Resource:
        """The resource, once it exists and its spec satisfies `predicate`."""
        ns = namespace or rt.default_namespace

        def check() -> Resource | None:
            r = self.state.get_nowait(ns, rt.type, id)
            return r if r is not None and (predicate is None or predicate(r.spec)) else None

        what = f"{rt.type} {ns}/{id}" + (f" where {_describe(predicate)}" if predicate else "")
        return await self.until(what, check, seen=lambda: self._seen(rt, ns, id))

    async def until_gone(self, rt: ResourceType, id: str, *,
                         namespace: str | None = None) -> None:
        ns = namespace or rt.default_namespace
        await self.until(f"{rt.type} {ns}/{id} to be destroyed",
                         lambda: self.state.get_nowait(ns, rt.type, id) is None or None,
                         seen=lambda: self._seen(rt, ns, id))

    async def until_outputs(self, rt: ResourceType,
                            predicate: Callable[[dict[str, Any]], bool], *,
                            namespace: str | None = None) -> dict[str, Any]:
        """The controllers' `rt` outputs (id -> spec), once `predicate` holds for them."""
        def check() -> dict[str, Any] | None:
            out = self.outputs(rt, namespace=namespace)
            return out if predicate(out) else None

        return await self.until(
            f"{rt.type} outputs where {_describe(predicate)}", check,
            seen=lambda: _show(rt, self.outputs(rt, namespace=namespace)))

    async def settled(self) -> None:
        """Every controller has finished its passes and waits for a change: whatever it
        would output for the current inputs is in the state (background work a controller
        started, such as a client connection, may still report later)."""
        def check() -> bool | None:
            return all(self.runtime.context(n).idle for n in self._names) or None

        def seen() -> str:
            busy = [n for n in self._names if not self.runtime.context(n).idle]
            return "still busy: " + ", ".join(busy)

        await self.until("every controller to be idle", check, seen=seen)

    async def until(self, what: str, check: Callable[[], T | None],
                    seen: Callable[[], str] | None = None) -> T:
        """Wait until `check()` returns something other than None (rechecked on every change
        the harness is told about); fails after `timeout` seconds naming `what`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            self._changed.clear()
            result = check()
            if result is not None:
                return result
            if self.crashes and not self.allow_crashes:
                raise AssertionError(f"waiting for {what}: {self._crash_text()}") \
                    from self._errors[0] if self._errors else None
            try:
                async with asyncio.timeout_at(deadline):
                    await self._changed.wait()
            except TimeoutError:
                detail = f"; {seen()}" if seen is not None else ""
                raise AssertionError(
                    f"waited {self.timeout:g}s for {what}{detail}") from None

    # ---- time -----------------------------------------------------------------------------
    async def advance(self, seconds: float, *, sleepers: int = 1) -> None:
        """Move the fake clock, once at least `sleepers` tasks sleep on it (a controller's
        requeue_after, a back-off): advancing before they sleep would be lost on them."""
        try:
            async with asyncio.timeout(self.timeout):
                await self.clock.wait_sleepers(sleepers)
        except TimeoutError:
            raise AssertionError(
                f"waited {self.timeout:g}s for {sleepers} task(s) to sleep on the fake clock "
                f"(asleep: {self.clock.sleepers}); does the controller requeue?") from None
        self.clock.advance(seconds)

    def _seen(self, rt: ResourceType, ns: str, id: str) -> str:
        r = self.state.get_nowait(ns, rt.type, id)
        if r is None:
            return "it does not exist"
        spec = "<sensitive>" if rt.sensitive else repr(r.spec)
        return f"last seen (version {r.metadata.version}, {r.metadata.phase.name}): {spec}"


def _show(rt: ResourceType, out: dict[str, Any]) -> str:
    if rt.sensitive:
        return f"last seen ids: {sorted(out)}"
    return f"last seen: {out!r}"


def _describe(fn: Callable[..., Any]) -> str:
    """A predicate as its source text (a lambda) or its name."""
    try:
        src = inspect.getsource(fn).strip()
    except (OSError, TypeError):
        return getattr(fn, "__name__", "a predicate")
    if "lambda" in src:
        src = " ".join(src[src.index("lambda"):].split()).rstrip(",:")
        while src.endswith(")") and src.count(")") > src.count("("):
            src = src[:-1].rstrip(",")  # the call the lambda was passed to
        return src if len(src) <= 160 else src[:157] + "..."
    return getattr(fn, "__name__", "a predicate")
