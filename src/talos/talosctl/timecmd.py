"""`talosctl time [--check server]`: the node's clock (and an NTP server's, if checked)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from talos.talosctl.formats import emit, output_option
from talos.talosctl.nodeapi import Session, call, echo_table


def go_time(ts: Any) -> str:
    """Go's time.Time.String() of a UTC time: `2006-01-02 15:04:05.123456789 +0000 UTC`
    (the fraction to the nanosecond, trailing zeros dropped)."""
    if not ts.seconds and not ts.nanos:
        return ""
    t = dt.datetime.fromtimestamp(ts.seconds, dt.UTC)
    frac = f".{ts.nanos:09d}".rstrip("0") if ts.nanos else ""
    return f"{t:%Y-%m-%d %H:%M:%S}{frac.rstrip('.')} +0000 UTC"


@click.command(name="time")
@click.option("-c", "--check", default="", metavar="SERVER",
              help="checks server time against specified ntp server")
@output_option
@click.pass_context
def time_(ctx: click.Context, check: str, output: str) -> None:
    """Gets current server time."""
    from google.protobuf import empty_pb2

    from talos.api.time import time_pb2, time_pb2_grpc

    async def run(s: Session) -> None:
        api = time_pb2_grpc.TimeServiceStub(s.conn.channel)
        if check:
            reply = await api.TimeCheck(time_pb2.TimeRequest(server=check), metadata=s.md)
        else:
            reply = await api.Time(empty_pb2.Empty(), metadata=s.md)
        answered = s.ok(reply.messages)
        if emit(((s.node_of(msg), msg) for msg in answered), output):
            s.raise_errors()
            return
        rows = [("NODE", "NTP-SERVER", "NODE-TIME", "NTP-SERVER-TIME")]
        for msg in answered:
            rows.append((s.node_of(msg), msg.server or "-", go_time(msg.localtime),
                         go_time(msg.remotetime) or "-"))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)
