"""Controller runtime behaviour, driven by an in-memory state and a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from ruamel.yaml import YAML

from talos.cosi.clock import FakeClock
from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, InputKind, Output, OutputKind
from talos.cosi.resource import Phase, Pointer, Resource
from talos.cosi.runtime import Runtime
from talos.cosi.state import EventType, State
from talos.machinery.errors import Conflict, PermissionDenied
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG, MachineConfigSpec
from talos.machinery.resources.network import HOSTNAME_STATUS, HostnameStatusSpec

NS = "chain"


def T(name: str) -> str:
    return f"{name}s.chain.talos.dev"


@dataclass(frozen=True)
class Num:
    value: int = 0


class Step:
    """Copies every `src` resource to `dst` with value + 1; cleans up what is gone."""

    def __init__(self, src: str, dst: str) -> None:
        self.name = f"chain.{src}To{dst}"
        self.inputs = (Input(NS, T(src)),)
        self.outputs = (Output(T(dst)),)
        self.src, self.dst = T(src), T(dst)

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            r.start_tracking_outputs()
            for res in await r.list(NS, self.src):
                await r.put(NS, self.dst, res.id, Num(res.spec.value + 1))
            await r.cleanup_outputs()


@pytest.fixture
async def running() -> AsyncIterator[tuple[State, Runtime, FakeClock]]:
    state, clock = State(), FakeClock()
    rt = Runtime(state, clock=clock)
    yield state, rt, clock


async def start(rt: Runtime) -> asyncio.Task[None]:
    task = asyncio.create_task(rt.run())
    await asyncio.sleep(0)
    return task


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def wait_value(state: State, type: str, id: str, value: int | None) -> None:
    """Wait (by watching, not sleeping) until the resource has `value` (None: is gone)."""
    with state.watch(NS, type, id) as w:
        async for ev in w:
            r = ev.resource
            if value is None and ev.type is EventType.DESTROYED:
                return
            if value is not None and ev.type is not EventType.DESTROYED and r is not None \
                    and r.spec.value == value:
                return


async def test_chain_of_three_controllers_converges_after_input_change(running) -> None:
    state, rt, _ = running
    for src, dst in (("A", "B"), ("B", "C"), ("C", "D")):
        rt.register(Step(src, dst))
    task = await start(rt)
    try:
        a = await state.create(Resource.new(NS, T("A"), "x", Num(1)))
        await wait_value(state, T("D"), "x", 4)
        await state.update(a.with_spec(Num(10)))
        await wait_value(state, T("D"), "x", 13)
        d = await state.get(NS, T("D"), "x")
        assert d.metadata.owner == "chain.CToD"
        # removing the source cleans up the whole chain (touch, then clean up)
        await state.destroy(a.pointer)
        await wait_value(state, T("D"), "x", None)
        assert await state.list(NS, T("B")) == [] and await state.list(NS, T("C")) == []
    finally:
        await stop(task)


class Failing:
    name = "test.Failing"
    inputs = ()
    outputs = (Output(T("F")),)

    def __init__(self) -> None:
        self.attempts = 0

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            self.attempts += 1
            raise RuntimeError("boom")


async def test_failing_controller_backs_off_exponentially_without_starving_others(
        running) -> None:
    state, rt, clock = running
    failing = Failing()
    rt.register(failing)
    rt.register(Step("A", "B"))
    task = await start(rt)
    try:
        for expected in (0.1, 0.2, 0.4, 0.8):
            await clock.wait_sleepers(1)
            assert clock.sleeps[-1] == pytest.approx(expected)
            # meanwhile the healthy controller keeps reconciling
            a = await state.create(Resource.new(NS, T("A"), f"n{expected}", Num(1)))
            await wait_value(state, T("B"), a.id, 2)
            clock.advance(expected)
        await clock.wait_sleepers(1)
        assert failing.attempts == 5 and rt.failures("test.Failing") == 5
    finally:
        await stop(task)


async def test_backoff_is_capped(running) -> None:
    state, _, clock = running
    rt = Runtime(state, clock=clock, backoff_initial=1, backoff_max=3)
    rt.register(Failing())
    task = await start(rt)
    try:
        for _ in range(4):
            await clock.wait_sleepers(1)
            clock.advance(clock.sleeps[-1])
        await clock.wait_sleepers(1)
        assert clock.sleeps == [1, 2, 3, 3, 3]
    finally:
        await stop(task)


class Rogue:
    name = "test.Rogue"
    inputs = (Input(NS, T("A")),)
    outputs = (Output(T("R")),)

    def __init__(self) -> None:
        self.errors: asyncio.Queue[Exception] = asyncio.Queue()

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            for attempt in (lambda: r.put(NS, T("A"), "x", Num(1)),
                            lambda: r.get(NS, T("Secret"), "x"),
                            lambda: r.add_finalizer(Pointer(NS, T("R"), "x"), "f")):
                try:
                    await attempt()
                except PermissionDenied as e:
                    await self.errors.put(e)
            await r.put(NS, T("R"), "ok", Num(1))


async def test_undeclared_reads_and_writes_are_rejected(running) -> None:
    state, rt, _ = running
    rogue = Rogue()
    rt.register(rogue)
    task = await start(rt)
    try:
        errs = [str(await rogue.errors.get()) for _ in range(3)]
        await wait_value(state, T("R"), "ok", 1)
    finally:
        await stop(task)
    assert "is not a declared output" in errs[0]
    assert "is not a declared input or output" in errs[1]
    assert "finalizers go on inputs only" in errs[2]
    assert await state.list(NS, T("A")) == []


def test_two_exclusive_owners_are_refused_at_registration() -> None:
    rt = Runtime(State())
    rt.register(Step("A", "B"))
    with pytest.raises(Conflict, match=r"already owned by chain\.AToB"):
        rt.register(Step("C", "B"))
    shared_a = Step("X", "S")
    shared_a.outputs = (Output(T("S"), OutputKind.SHARED),)
    shared_b = Step("Y", "S")
    shared_b.outputs = (Output(T("S"), OutputKind.SHARED),)
    rt.register(shared_a)
    rt.register(shared_b)


class Counting:
    """Records how many passes run while its input changes many times during one pass."""

    name = "test.Counting"
    inputs = (Input(NS, T("A")),)
    outputs = ()

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.in_pass = asyncio.Event()
        self.passes = 0

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            self.passes += 1
            self.in_pass.set()
            await self.gate.wait()


async def test_changes_during_a_pass_coalesce_into_one_more_pass(running) -> None:
    state, rt, _ = running
    c = Counting()
    rt.register(c)
    task = await start(rt)
    try:
        await c.in_pass.wait()
        for i in range(50):
            await state.create(Resource.new(NS, T("A"), f"r{i}", Num(i)))
        c.in_pass.clear()
        c.gate.set()
        await c.in_pass.wait()
        for _ in range(5):
            await asyncio.sleep(0)
        assert c.passes == 2
    finally:
        await stop(task)


class Finalizing:
    """Holds a finalizer on its strong input while it exists; releases it on teardown."""

    name = "test.Finalizing"
    inputs = (Input(NS, T("A"), kind=InputKind.STRONG),)
    outputs = ()

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            for res in await r.list(NS, T("A")):
                if res.metadata.phase is Phase.RUNNING:
                    await r.add_finalizer(res.pointer, self.name)
                else:
                    await r.remove_finalizer(res.pointer, self.name)


async def test_teardown_of_a_strong_input_waits_for_the_consumer(running) -> None:
    state, rt, _ = running
    rt.register(Finalizing())
    task = await start(rt)
    try:
        a = await state.create(Resource.new(NS, T("A"), "x", Num(1)))
        with state.watch(NS, T("A"), "x") as w:
            async for ev in w:
                if ev.resource is not None and ev.resource.metadata.finalizers:
                    break
        await state.teardown_and_destroy(a.pointer)
        assert await state.list(NS, T("A")) == []
    finally:
        await stop(task)


def test_dependency_graph_lists_inputs_and_outputs() -> None:
    rt = Runtime(State())
    rt.register(Step("A", "B"))
    kinds = [(e.kind, e.type) for e in rt.dependencies()]
    assert kinds == [("input-weak", T("A")), ("output-exclusive", T("B"))]


async def test_shutdown_stops_every_controller_and_unsubscribes(running) -> None:
    state, rt, clock = running
    rt.register(Step("A", "B"))
    rt.register(Failing())
    task = await start(rt)
    await clock.wait_sleepers(1)  # one controller is backing off, the other waits for input
    await stop(task)
    assert all(not subs for subs in state._subs.values())
    assert all(not subs for subs in state._type_subs.values())
    # the state is still usable and nobody reacts any more
    await state.create(Resource.new(NS, T("A"), "late", Num(1)))
    await asyncio.sleep(0)
    assert await state.list(NS, T("B")) == []


async def test_unchanged_put_writes_no_new_version(running) -> None:
    state, rt, _ = running
    rt.register(Step("A", "B"))
    task = await start(rt)
    try:
        a = await state.create(Resource.new(NS, T("A"), "x", Num(1)))
        await wait_value(state, T("B"), "x", 2)
        a = await state.update(a.with_metadata(labels={"touch": "1"}))  # same value
        await state.update(a.with_spec(Num(5)))
        await wait_value(state, T("B"), "x", 6)
        assert (await state.get(NS, T("B"), "x")).version == 2
    finally:
        await stop(task)


class Ticker:
    """Re-runs every 5 s of (fake) time with no input changes."""

    name = "test.Ticker"
    inputs = ()
    outputs = (Output(T("Tick")),)

    async def run(self, r: ControllerContext) -> None:
        n = 0
        async for _ in r.wake_ups():
            n += 1
            await r.put(NS, T("Tick"), "t", Num(n))
            r.requeue_after(5)


async def test_requeue_after_runs_again_on_the_runtime_clock(running) -> None:
    state, rt, clock = running
    rt.register(Ticker())
    task = await start(rt)
    try:
        await wait_value(state, T("Tick"), "t", 1)
        await clock.wait_sleepers(1)
        assert clock.sleeps == [5]
        clock.advance(4.9)
        await asyncio.sleep(0)
        assert (await state.get(NS, T("Tick"), "t")).spec == Num(1)
        clock.advance(0.1)
        await wait_value(state, T("Tick"), "t", 2)
    finally:
        await stop(task)


class HostnameFromConfig:
    """The EXAMPLES.md shape with Talos's own types: MachineConfig -> HostnameStatus."""

    name = "network.HostnameStatusController"
    inputs = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID),)
    outputs = (Output.of(HOSTNAME_STATUS),)

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            r.start_tracking_outputs()
            cfg = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
            if cfg is not None:
                doc = YAML(typ="safe", pure=True).load(cfg.spec.text) or {}
                name = (((doc.get("machine") or {}).get("network") or {}).get("hostname")
                        or "talos-default")
                await r.put("network", HOSTNAME_STATUS.type, "hostname",
                            HostnameStatusSpec(hostname=name))
            await r.cleanup_outputs()


async def test_talos_types_flow_from_machine_config_to_hostname_status(running) -> None:
    state, rt, _ = running
    rt.register(HostnameFromConfig())
    task = await start(rt)
    try:
        cfg = await state.create(Resource.new(
            "config", MACHINE_CONFIG.type, ACTIVE_ID,
            MachineConfigSpec("machine:\n  network:\n    hostname: node-7\n")))
        with state.watch("network", HOSTNAME_STATUS.type, "hostname") as w:
            async for ev in w:
                if ev.resource is not None and ev.type is not EventType.DESTROYED:
                    break
        assert ev.resource.spec == HostnameStatusSpec("node-7")
        assert ev.resource.metadata.owner == "network.HostnameStatusController"
        await state.destroy(cfg.pointer)
        with state.watch("network", HOSTNAME_STATUS.type, "hostname") as w:
            async for ev in w:
                if ev.type is EventType.DESTROYED:
                    break
    finally:
        await stop(task)


class DestroyReadyWatcher:
    name = "test.DestroyReadyWatcher"
    inputs = (Input(NS, T("A"), kind=InputKind.DESTROY_READY),)
    outputs = ()

    def __init__(self) -> None:
        self.passes = 0
        self.woken = asyncio.Event()

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            self.passes += 1
            self.woken.set()


async def test_destroy_ready_input_wakes_only_when_teardown_can_finish(running) -> None:
    state, rt, _ = running
    c = DestroyReadyWatcher()
    rt.register(c)
    task = await start(rt)
    try:
        await c.woken.wait()  # the first pass always runs
        c.woken.clear()
        a = await state.create(Resource.new(NS, T("A"), "x", Num(1)))
        a = await state.update(a.with_spec(Num(2)))
        await state.add_finalizer(a.pointer, "f")
        await state.teardown(a.pointer)  # torn down but still held: not ready
        for _ in range(5):
            await asyncio.sleep(0)
        assert c.passes == 1
        await state.remove_finalizer(a.pointer, "f")  # now ready to destroy
        await c.woken.wait()
        assert c.passes == 2
    finally:
        await stop(task)
