"""The sequencer: runs one named sequence at a time and reports every step as an event.

A sequence is phases run in order; the tasks of a phase run concurrently. A second request
while one runs gets `Busy` (FAILED_PRECONDITION) naming the sequence in progress.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from talos.machined.events import Action, EventBus, PhaseEvent, SequenceEvent, TaskEvent
from talos.machinery.errors import Busy, FailedPrecondition

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    name: str
    run: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Phase:
    name: str
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class Sequence:
    name: str
    phases: tuple[Phase, ...]
    #: ends this machined (shutdown, reboot, reset): once it succeeded nothing else may start
    terminal: bool = False


class Sequencer:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.current: str | None = None
        self.done: dict[str, asyncio.Event] = {}
        self._tg: asyncio.TaskGroup | None = None
        self._running: asyncio.Task[None] | None = None

    def attach(self, tg: asyncio.TaskGroup | None) -> None:
        """The TaskGroup that owns sequences started with `submit`."""
        self._tg = tg

    def _claim(self, name: str) -> None:
        if self.current is not None:
            raise Busy(f"sequence {self.current!r} is in progress; cannot start {name!r}")
        self.current = name

    async def run(self, seq: Sequence) -> None:
        """Run `seq` now; raises Busy if another sequence runs, or the first task error."""
        self._claim(seq.name)
        await self._run_claimed(seq)

    def submit(self, seq: Sequence) -> asyncio.Task[None]:
        """Start `seq` in the background (claimed synchronously, so Busy is immediate)."""
        if self._tg is None:
            raise FailedPrecondition("the sequencer is not running")
        self._claim(seq.name)
        task = self._tg.create_task(self._run_background(seq), name=f"sequence:{seq.name}")
        self._running = task
        return task

    def preempt(self, seq: Sequence) -> asyncio.Task[None]:
        """Cancel whatever sequence runs and start `seq` (shutdown on SIGTERM does this)."""
        if self._tg is None:
            raise FailedPrecondition("the sequencer is not running")
        victim = self._running if self._running and not self._running.done() else None

        async def takeover() -> None:
            if victim is not None:
                victim.cancel()
                await asyncio.wait([victim])
            try:
                self._claim(seq.name)
            except Busy as exc:
                log.error("cannot preempt: %s", exc)
                return
            await self._run_background(seq)

        task = self._tg.create_task(takeover(), name=f"sequence:{seq.name}")
        self._running = task
        return task

    async def _run_background(self, seq: Sequence) -> None:
        try:
            await self._run_claimed(seq)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sequence %s failed", seq.name)  # already reported as an event

    async def _run_claimed(self, seq: Sequence) -> None:
        self.bus.publish(SequenceEvent(seq.name, Action.START))
        log.info("sequence %s started", seq.name)
        try:
            for phase in seq.phases:
                self.bus.publish(PhaseEvent(phase.name, Action.START))
                async with asyncio.TaskGroup() as tg:
                    for task in phase.tasks:
                        tg.create_task(self._run_task(task))
                self.bus.publish(PhaseEvent(phase.name, Action.STOP))
        except BaseException as exc:
            self.current = None
            err = exc
            if isinstance(exc, BaseExceptionGroup):
                err = exc.exceptions[0]
            self.bus.publish(SequenceEvent(seq.name, Action.STOP, error=str(err) or repr(err)))
            log.error("sequence %s failed: %s", seq.name, err)
            if isinstance(exc, BaseExceptionGroup) and not isinstance(err, asyncio.CancelledError):
                raise err from exc
            raise
        self.bus.publish(SequenceEvent(seq.name, Action.STOP))
        log.info("sequence %s done", seq.name)
        self.done.setdefault(seq.name, asyncio.Event()).set()
        if not seq.terminal:
            self.current = None
        # a terminal sequence stays "in progress" until this process is gone

    async def _run_task(self, task: Task) -> None:
        self.bus.publish(TaskEvent(task.name, Action.START))
        await task.run()
        self.bus.publish(TaskEvent(task.name, Action.STOP))
