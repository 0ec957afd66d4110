"""Times in tables as talosctl prints them (Go's layouts and go-humanize's `Time`)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import click

SECOND = 1
MINUTE = 60
HOUR = 3600
DAY = 24 * HOUR
WEEK = 7 * DAY
MONTH = 30 * DAY
YEAR = 12 * MONTH
SIX_MONTHS = 6 * MONTH

# go-humanize's magnitudes: (below this many seconds, format, divisor)
_MAGNITUDES: tuple[tuple[float, str, int], ...] = (
    (SECOND, "now", 1),
    (2 * SECOND, "1 second {}", 1),
    (MINUTE, "{n} seconds {}", SECOND),
    (2 * MINUTE, "1 minute {}", 1),
    (HOUR, "{n} minutes {}", MINUTE),
    (2 * HOUR, "1 hour {}", 1),
    (DAY, "{n} hours {}", HOUR),
    (2 * DAY, "1 day {}", 1),
    (WEEK, "{n} days {}", DAY),
    (2 * WEEK, "1 week {}", 1),
    (MONTH, "{n} weeks {}", WEEK),
    (2 * MONTH, "1 month {}", 1),
    (YEAR, "{n} months {}", MONTH),
    (18 * MONTH, "1 year {}", 1),
    (2 * YEAR, "2 years {}", 1),
    (37 * YEAR, "{n} years {}", YEAR),
    (float("inf"), "a long while {}", 1),
)


def humanize_time(seconds: float, now: float | None = None) -> str:
    """go-humanize `Time`: `now`, `3 minutes ago`, `2 days from now`, …"""
    now = time.time() if now is None else now
    diff = now - seconds
    label = "ago"
    if diff < 0:
        diff, label = -diff, "from now"
    for limit, fmt, div in _MAGNITUDES:
        if diff < limit:
            return fmt.format(label, n=int(diff // div)) if fmt != "now" else "now"
    raise AssertionError("unreachable")  # the last magnitude is infinite


def lastmod(seconds: int, *, humanize: bool = False, now: float | None = None) -> str:
    """`list -l`'s LASTMOD: `Jan _2 15:04:05` within six months, else `Jan _2 2006 15:04`
    (local time, as talosctl); with -H, humanized (`5 minutes ago`)."""
    now = time.time() if now is None else now
    if humanize:
        return humanize_time(seconds, now)
    t = dt.datetime.fromtimestamp(seconds).astimezone()
    day = f"{t.day:>2}"
    if now - seconds < SIX_MONTHS:
        return f"{t:%b} {day} {t:%H:%M:%S}"
    return f"{t:%b} {day} {t:%Y %H:%M}"


def parse_duration(value: str, flag: str) -> float:
    """A flag's Go-style duration (`20m`, `1m30s`, `500ms`) or plain seconds -> seconds; a
    bad value is a usage error naming the flag (exit 2)."""
    from talos.machinery.duration import parse_go_duration
    from talos.machinery.errors import InvalidArgument

    try:
        return float(value.strip())
    except ValueError:
        pass
    try:
        return parse_go_duration(value)
    except InvalidArgument:
        raise click.BadParameter(f"invalid duration {value!r} (expected e.g. 30s, 5m, "
                                 "1h30m or 500ms)", param_hint=flag) from None


def go_duration(seconds: float) -> str:
    """Go's `Duration.Round(time.Second).String()`: 1h2m3s, 4m0s, 12s."""
    from talos.machinery.duration import format_go_duration
    return format_go_duration(seconds)



class DurationParam(click.ParamType):  # type: ignore[type-arg]  # generic only since click 8.2
    """A click type for Go-duration flags (`--timeout 5m`, `90s`, `1h30m`; plain seconds
    are still accepted): the value is seconds, a bad one a usage error naming the flag."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            return float(value)
        flag = max(param.opts, key=len) if param is not None and param.opts else "duration"
        return parse_duration(str(value), flag)


DURATION = DurationParam()
