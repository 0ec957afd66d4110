"""The service supervisor with real processes, an in-process reaper and a fake clock."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest

from talos.cosi.clock import FakeClock
from talos.machined.system.logbuffer import LogBuffer
from talos.machined.system.reaper import Reaper
from talos.machined.system.service import ProcessSpec, RestartPolicy, ServiceSpec, ServiceState
from talos.machined.system.supervisor import Supervisor

PY = sys.executable


def proc(code: str) -> ProcessSpec:
    return ProcessSpec(argv=(PY, "-c", code))


@pytest.fixture
async def sup() -> AsyncIterator[tuple[Supervisor, FakeClock]]:
    clock = FakeClock()
    reaper = Reaper(reap_all=False)
    loop = asyncio.get_running_loop()
    with reaper.installed(loop):
        s = Supervisor(reaper, clock)
        task = asyncio.create_task(s.run())
        await s.ready()
        try:
            yield s, clock
        finally:
            await s.stop_all()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


async def wait_state(s: Supervisor, sid: str, state: ServiceState) -> None:
    await s.get(sid).wait_for(lambda r: r.state is state)


async def test_crashing_service_is_restarted_after_backoff(sup):
    s, clock = sup
    s.register(ServiceSpec(id="crashy", process=proc("print('boom'); raise SystemExit(3)"),
                           backoff=7.0))
    s.start("crashy")
    r = s.get("crashy")
    for round_ in range(3):
        await clock.wait_sleepers(1)
        assert r.state is ServiceState.WAITING
        assert any("exited with code 3" in e.message for e in r.events)
        assert r.restarts == round_ + 1
        clock.advance(7.0)
    assert clock.sleeps[:3] == [7.0, 7.0, 7.0]
    assert b"boom" in r.log.snapshot()


async def test_stop_terminates_running_process_and_finishes(sup):
    s, _ = sup
    s.register(ServiceSpec(id="sleeper", process=proc("import time; time.sleep(600)")))
    s.start("sleeper")
    await wait_state(s, "sleeper", ServiceState.RUNNING)
    await s.stop("sleeper")
    r = s.get("sleeper")
    assert r.state is ServiceState.FINISHED
    assert [e.state for e in r.events][-2:] == [ServiceState.STOPPING, ServiceState.FINISHED]


async def test_skipped_service_reports_reason(sup):
    s, _ = sup
    s.register(ServiceSpec(id="kubelet", skip_reason="kubelet binary not available on this node"))
    s.start("kubelet")
    await wait_state(s, "kubelet", ServiceState.SKIPPED)
    assert s.get("kubelet").events[-1].message == "kubelet binary not available on this node"


async def test_dependent_waits_until_dependency_is_healthy_and_stops_first(sup):
    s, clock = sup
    healthy = asyncio.Event()

    async def check() -> None:
        if not healthy.is_set():
            raise RuntimeError("not yet")

    s.register(ServiceSpec(id="base", process=proc("import time; time.sleep(600)"),
                           health_check=check, health_interval=1.0))
    s.register(ServiceSpec(id="top", process=proc("import time; time.sleep(600)"),
                           depends_on=("base",)))
    s.start_all()
    await wait_state(s, "base", ServiceState.RUNNING)
    # the first probes fail quietly (every 0.1 s for one interval), then failures count
    for _ in range(10):
        await clock.wait_sleepers(1)
        assert s.get("top").state is ServiceState.WAITING
        clock.advance(0.1)
    await s.get("base").wait_for(lambda r: not r.health.unknown)
    assert not s.get("base").health.healthy
    assert "service 'base' to be up" in s.get("top").events[-1].message
    healthy.set()
    await clock.wait_sleepers(1)
    clock.advance(1.0)
    await wait_state(s, "top", ServiceState.RUNNING)
    order = await s.stop_all()
    assert order.index("top") < order.index("base")


async def test_once_service_that_succeeds_finishes(sup):
    s, _ = sup
    s.register(ServiceSpec(id="job", process=proc("print('done')"),
                           restart=RestartPolicy.ONCE))
    s.start("job")
    await wait_state(s, "job", ServiceState.FINISHED)
    await asyncio.sleep(0)
    assert not s.get("job").active


async def test_log_buffer_tail_and_follow():
    buf = LogBuffer(capacity=64)
    for i in range(20):
        buf.write(f"line {i}\n".encode())
    assert len(buf.snapshot()) <= 64
    tail = b"".join([c async for c in buf.read(tail_lines=2)])
    assert tail == b"line 18\nline 19\n"
    got: list[bytes] = []

    async def follow() -> None:
        async for c in buf.read(tail_lines=0, follow=True):
            got.append(c)
            if b"end" in c:
                return

    t = asyncio.create_task(follow())
    await asyncio.sleep(0)
    buf.write(b"end\n")
    await t
    assert got == [b"end\n"]


async def test_error_in_a_service_marks_it_failed_and_the_rest_keeps_running(sup):
    s, _ = sup

    async def broken_prepare() -> None:
        raise RuntimeError("cannot create /var/lib/broken")

    s.register(ServiceSpec(id="broken", process=proc("pass"), prepare=broken_prepare))
    s.register(ServiceSpec(id="fine", process=proc("import time; time.sleep(600)")))
    s.start_all()
    await wait_state(s, "broken", ServiceState.FAILED)
    await wait_state(s, "fine", ServiceState.RUNNING)
    assert s.get("broken").events[-1].message == \
        "Service failed: cannot create /var/lib/broken"
    assert not s.get("broken").active


async def test_unknown_dependency_and_duplicate_ids_are_refused(sup):
    s, _ = sup
    from talos.machinery.errors import AlreadyExists, InvalidArgument, NotFound
    with pytest.raises(InvalidArgument, match="unknown service 'ghost'"):
        s.register(ServiceSpec(id="x", depends_on=("ghost",)))
    s.register(ServiceSpec(id="y", skip_reason="n/a"))
    with pytest.raises(AlreadyExists):
        s.register(ServiceSpec(id="y", skip_reason="n/a"))
    with pytest.raises(NotFound):
        s.get("nope")
