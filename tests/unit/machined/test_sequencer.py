"""The sequencer: one sequence at a time, every step reported as an event."""

from __future__ import annotations

import asyncio

import pytest

from talos.machined.events import Action, EventBus, PhaseEvent, SequenceEvent, TaskEvent
from talos.machined.sequencer import Phase, Sequence, Sequencer, Task
from talos.machinery.errors import Busy


def seq(name: str, *fns) -> Sequence:
    return Sequence(name, (Phase("only", tuple(Task(f"t{i}", f) for i, f in enumerate(fns))),))


async def test_second_sequence_is_refused_naming_the_running_one():
    bus = EventBus()
    sq = Sequencer(bus)
    gate = asyncio.Event()

    async def block() -> None:
        await gate.wait()

    async with asyncio.TaskGroup() as tg:
        sq.attach(tg)
        sq.submit(seq("boot", block))
        with pytest.raises(Busy) as err:
            sq.submit(seq("reboot", block))
        assert "'boot' is in progress" in str(err.value)
        assert err.value.code == "FAILED_PRECONDITION"
        gate.set()
    assert sq.current is None
    kinds = [type(e.payload).__name__ for e in bus.history()]
    assert kinds == ["SequenceEvent", "PhaseEvent", "TaskEvent", "TaskEvent", "PhaseEvent",
                     "SequenceEvent"]


async def test_failing_task_stops_the_sequence_with_an_error_event():
    bus = EventBus()
    sq = Sequencer(bus)
    ran: list[str] = []

    async def boom() -> None:
        raise RuntimeError("disk on fire")

    async def later() -> None:
        ran.append("later")

    s = Sequence("boot", (Phase("a", (Task("boom", boom),)),
                          Phase("b", (Task("later", later),))))
    with pytest.raises(RuntimeError, match="disk on fire"):
        await sq.run(s)
    assert ran == []
    last = bus.history()[-1].payload
    assert last == SequenceEvent("boot", Action.STOP, error="disk on fire")
    assert PhaseEvent("b", Action.START) not in [e.payload for e in bus.history()]
    assert TaskEvent("boom", Action.START) in [e.payload for e in bus.history()]


async def test_preempt_cancels_the_running_sequence():
    bus = EventBus()
    sq = Sequencer(bus)
    done: list[str] = []

    async def forever() -> None:
        await asyncio.Event().wait()

    async def stop() -> None:
        done.append("shutdown")

    async with asyncio.TaskGroup() as tg:
        sq.attach(tg)
        sq.submit(seq("boot", forever))
        await asyncio.sleep(0)
        await sq.preempt(seq("shutdown", stop))
    assert done == ["shutdown"]


async def test_events_resume_after_an_id():
    bus = EventBus()
    first = bus.publish(TaskEvent("a", Action.START))
    bus.publish(TaskEvent("b", Action.START))
    got = [e.payload async for e in bus.stream(since_id=first.id, follow=False)]
    assert got == [TaskEvent("b", Action.START)]
    assert [e.payload async for e in bus.stream(tail_events=0, follow=False)] == []
    assert len([e async for e in bus.stream(tail_events=-1, follow=False)]) == 2


async def _delivered_within(bus: EventBus, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await bus.delivered()
    except TimeoutError:
        return False
    return True


async def test_delivered_waits_until_every_watcher_has_taken_the_newest_event():
    bus = EventBus()
    assert await _delivered_within(bus, 0.1)  # nothing published, nobody watching
    stream = bus.stream(tail_events=0)
    reader = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)  # the watcher is following
    bus.publish(PhaseEvent("stopServices", Action.START))
    assert (await reader).payload == PhaseEvent("stopServices", Action.START)
    # handed over, but the consumer has not asked for the next one: not yet taken
    assert not await _delivered_within(bus, 0.05)
    nxt = asyncio.ensure_future(stream.__anext__())
    assert await _delivered_within(bus, 1.0)
    nxt.cancel()  # the watcher goes away (its generator is closed by the cancellation)
    with pytest.raises((asyncio.CancelledError, StopAsyncIteration)):
        await nxt
    assert bus._taken == {}  # a closed stream is no longer waited for
    bus.publish(PhaseEvent("exit", Action.START))
    assert await _delivered_within(bus, 0.1)
