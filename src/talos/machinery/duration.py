"""Go durations (`time.ParseDuration` / `Duration.String`), as Talos configs and flags use
them: `87600h0m0s`, `1h30m`, `90s`, `500ms`, `0`."""

from __future__ import annotations

import re

from talos.machinery.errors import InvalidArgument

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_go_duration(text: str, what: str = "duration") -> float:
    """Seconds; a sign is allowed as in Go. A bad value raises InvalidArgument naming
    `what` (a field path or a flag) and the expected form."""
    value = text.strip()
    body = value[1:] if value[:1] in "+-" else value
    total, pos = 0.0, 0
    for m in _PART.finditer(body):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if body != "0" and (not body or pos != len(body)):
        raise InvalidArgument(f"{what}: invalid duration {text!r} (expected e.g. 30s, 5m, "
                              "1h30m or 500ms)")
    return -total if value.startswith("-") else total


def format_go_duration(seconds: float) -> str:
    """Go's `Duration.Round(time.Second).String()`: `1h2m3s`, `4m0s`, `12s`, `0s`."""
    s = round(max(seconds, 0.0))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h}h{m}m{sec}s"
    return f"{m}m{sec}s" if m else f"{sec}s"
