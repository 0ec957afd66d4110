"""The node's event stream: sequence/phase/task progress and service state changes.

Events keep the last `capacity` entries; ids are strings that sort in publication order, so a
client resumes with `since_id`. The server turns payloads into `machine.*Event` messages.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from talos.machined.system.service import HealthStatus, ServiceState
from talos.machinery.errors import NotFound


class Action(enum.Enum):
    START = "start"
    STOP = "stop"


@dataclass(frozen=True)
class SequenceEvent:
    sequence: str
    action: Action
    error: str = ""


@dataclass(frozen=True)
class PhaseEvent:
    phase: str
    action: Action


@dataclass(frozen=True)
class TaskEvent:
    task: str
    action: Action


@dataclass(frozen=True)
class ServiceStateEvent:
    service: str
    state: ServiceState
    message: str
    health: HealthStatus


Payload = SequenceEvent | PhaseEvent | TaskEvent | ServiceStateEvent


@dataclass(frozen=True)
class Event:
    id: str
    payload: Payload
    ts: float


class EventBus:
    def __init__(self, capacity: int = 1000) -> None:
        self._events: collections.deque[Event] = collections.deque(maxlen=capacity)
        self._seq = itertools.count(1)
        # boot-unique prefix keeps ids ordered across a re-exec of machined
        self._prefix = f"{time.time_ns():016x}"
        self._waiters: list[asyncio.Future[None]] = []
        #: each following stream's last event its consumer has taken (the stream was asked
        #: for the next one after it), by the stream's token
        self._taken: dict[int, str] = {}
        self._tokens = itertools.count()

    def publish(self, payload: Payload) -> Event:
        ev = Event(id=f"{self._prefix}{next(self._seq):08x}", payload=payload, ts=time.time())
        self._events.append(ev)
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
        return ev

    def history(self) -> list[Event]:
        return list(self._events)

    async def stream(self, tail_events: int = 0, since_id: str = "",
                     follow: bool = True) -> AsyncIterator[Event]:
        """Past events (the last `tail_events`, -1 for all, or those after `since_id`), then
        new ones as they come."""
        past = list(self._events)
        if since_id:
            if not any(e.id == since_id for e in past) and (not past or since_id < past[0].id):
                raise NotFound(f"event id {since_id!r} is no longer kept")
            past = [e for e in past if e.id > since_id]
        elif tail_events >= 0:
            past = past[len(past) - tail_events:] if tail_events else []
        last = past[-1].id if past else (self._events[-1].id if self._events else "")
        for e in past:
            yield e
        if not follow:
            return
        token = next(self._tokens)
        self._taken[token] = last
        try:
            while True:
                fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._waiters.append(fut)
                await fut
                for e in list(self._events):
                    if e.id > last:
                        last = e.id
                        yield e
                        self._taken[token] = last
        finally:
            del self._taken[token]

    async def delivered(self) -> None:
        """Until every following stream's consumer has taken the newest event, so that
        progress published just before the API goes away (a shutdown stopping apid) reaches
        the clients watching. Callers bound it (`asyncio.timeout`)."""
        while self._events:
            newest = self._events[-1].id
            if all(last >= newest for last in self._taken.values()):
                return
            await asyncio.sleep(0.02)  # a shutdown's step, not a hot path
