"""Watch events (names and numbers as `cosi.resource.EventType`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from talos.cosi.resource import Resource


class EventType(enum.IntEnum):
    CREATED = 0
    UPDATED = 1
    DESTROYED = 2
    BOOTSTRAPPED = 3
    ERRORED = 4
    NOOP = 5


@dataclass(frozen=True)
class Event:
    type: EventType
    resource: Resource | None = None
    old: Resource | None = None
    error: str | None = None
