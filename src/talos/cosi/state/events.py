"""Watch events (names and numbers as `cosi.resource.EventType`)."""

from __future__ import annotations

import enum
from typing import NamedTuple

from talos.cosi.resource import Resource


class EventType(enum.IntEnum):
    CREATED = 0
    UPDATED = 1
    DESTROYED = 2
    BOOTSTRAPPED = 3
    ERRORED = 4
    NOOP = 5


class Event(NamedTuple):
    type: EventType
    resource: Resource | None = None
    old: Resource | None = None
    error: str | None = None
