"""The controller test harness (talos.cosi.testing): inputs in, outputs out, a fake clock,
waits that fail naming what they waited for, and a crashed controller failing the test."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.cosi.testing import ControllerHarness
from talos.machinery.resources.definition import ResourceType

NS = "harness"


@dataclass(frozen=True)
class Num:
    value: int = 0


SRC = ResourceType("Sources.harness.talos.dev", NS, Num)
DST = ResourceType("Targets.harness.talos.dev", NS, Num)


class Double:
    """Every Source as a Target with twice its value; a Source of -1 makes it raise; with
    `poll`, the values also grow by the number of passes (a requeueing controller)."""

    name = "harness.DoubleController"
    inputs = (Input.of(SRC),)
    outputs = (Output.of(DST),)

    def __init__(self, poll: float | None = None) -> None:
        self.poll = poll
        self.ticks = 0

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            r.start_tracking_outputs()
            for src in await r.list(NS, SRC.type):
                if src.spec.value == -1:
                    raise ValueError("a source of -1 is not allowed")
                await r.put(NS, DST.type, src.id, Num(2 * src.spec.value + self.ticks))
            await r.cleanup_outputs()
            if self.poll is not None:
                self.ticks += 1
                r.requeue_after(self.poll)


async def test_outputs_follow_inputs_in_and_out() -> None:
    async with ControllerHarness(Double()) as h:
        await h.put(SRC, "a", Num(2))
        assert (await h.until_output(DST, "a")).spec == Num(4)
        await h.put(SRC, "a", Num(5))
        await h.until_output(DST, "a", lambda s: s.value == 10)
        await h.destroy(SRC, "a")
        await h.until_gone(DST, "a")
        assert h.outputs(DST) == {}


async def test_settled_means_the_outputs_are_final_for_the_inputs() -> None:
    async with ControllerHarness(Double()) as h:
        await h.put(SRC, "a", Num(1))
        await h.put(SRC, "b", Num(2))
        await h.settled()
        assert h.outputs(DST) == {"a": Num(2), "b": Num(4)}


async def test_a_wait_that_never_ends_names_what_it_waited_for() -> None:
    async with ControllerHarness(Double(), timeout=0.2) as h:
        await h.put(SRC, "a", Num(1))
        with pytest.raises(AssertionError) as e:
            await h.until_output(DST, "a", lambda s: s.value == 3)
    msg = str(e.value)
    assert "Targets.harness.talos.dev harness/a where lambda s: s.value == 3" in msg
    assert "Num(value=2)" in msg


async def test_a_crashed_controller_fails_the_wait_and_the_test() -> None:
    with pytest.raises(AssertionError) as e:
        async with ControllerHarness(Double()) as h:
            await h.put(SRC, "a", Num(-1))
            await h.until_output(DST, "a")
    assert "controller harness.DoubleController crashed: ValueError: a source of -1" in \
        str(e.value)


async def test_a_crash_seen_only_at_teardown_fails_the_test() -> None:
    with pytest.raises(AssertionError, match=r"harness\.DoubleController crashed"):
        async with ControllerHarness(Double()) as h:
            await h.put(SRC, "a", Num(-1))
            await h.until("the crash to be recorded", lambda: h.crashes or None)


async def test_restarts_can_be_tested_with_allow_crashes() -> None:
    async with ControllerHarness(Double(), allow_crashes=True) as h:
        await h.put(SRC, "a", Num(-1))
        await h.until("a crash", lambda: h.crashes or None)
        await h.put(SRC, "a", Num(3))
        await h.advance(0.1)  # the runtime's first back-off, on the fake clock
        await h.until_output(DST, "a", lambda s: s.value == 6)


async def test_advance_wakes_a_requeued_controller() -> None:
    async with ControllerHarness(Double(poll=10)) as h:
        await h.put(SRC, "a", Num(1))
        await h.until_output(DST, "a", lambda s: s.value == 2)
        await h.advance(10)
        await h.until_output(DST, "a", lambda s: s.value == 3)


async def test_advance_names_a_controller_that_does_not_sleep() -> None:
    async with ControllerHarness(Double(), timeout=0.2) as h:
        with pytest.raises(AssertionError, match=r"1 task\(s\) to sleep on the fake clock"):
            await h.advance(10)
