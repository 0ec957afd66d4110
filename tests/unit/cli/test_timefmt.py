"""talosctl's time renderings (Go layouts, go-humanize Time)."""

from __future__ import annotations

import datetime as dt

from talos.talosctl.timefmt import DAY, HOUR, MONTH, YEAR, humanize_time, lastmod

NOW = 1_750_000_000.0


def test_humanize_time_magnitudes() -> None:
    cases = {0: "now", 1: "1 second ago", 45: "45 seconds ago", 90: "1 minute ago",
             59 * 60: "59 minutes ago", HOUR + 5: "1 hour ago", 5 * HOUR: "5 hours ago",
             DAY: "1 day ago", 3 * DAY: "3 days ago", 8 * DAY: "1 week ago",
             20 * DAY: "2 weeks ago", MONTH: "1 month ago", 5 * MONTH: "5 months ago",
             YEAR: "1 year ago", 20 * MONTH: "2 years ago", 5 * YEAR: "5 years ago",
             40 * YEAR: "a long while ago"}
    for ago, text in cases.items():
        assert humanize_time(NOW - ago, NOW) == text, ago
    assert humanize_time(NOW + 3 * DAY, NOW) == "3 days from now"


def test_lastmod_layouts() -> None:
    recent = NOW - 3 * DAY
    t = dt.datetime.fromtimestamp(recent).astimezone()
    assert lastmod(int(recent), now=NOW) == f"{t:%b} {t.day:>2} {t:%H:%M:%S}"
    old = NOW - 400 * DAY
    t = dt.datetime.fromtimestamp(old).astimezone()
    assert lastmod(int(old), now=NOW) == f"{t:%b} {t.day:>2} {t:%Y %H:%M}"
    assert lastmod(int(recent), humanize=True, now=NOW) == "3 days ago"


def test_time_column_is_gos_time_string() -> None:
    from google.protobuf.timestamp_pb2 import Timestamp

    from talos.talosctl.timecmd import go_time
    assert go_time(Timestamp(seconds=1750000000, nanos=123400000)) == \
        "2025-06-15 15:06:40.1234 +0000 UTC"
    assert go_time(Timestamp(seconds=1750000000)) == "2025-06-15 15:06:40 +0000 UTC"
    assert go_time(Timestamp(seconds=1750000000, nanos=5)) == \
        "2025-06-15 15:06:40.000000005 +0000 UTC"
    assert go_time(Timestamp()) == ""
