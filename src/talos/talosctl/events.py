"""`talosctl events [--tail N] [--since ID] [--duration D]`: the runtime event stream.

Columns as talosctl: NODE ID EVENT ACTOR SOURCE MESSAGE. The stream follows until
interrupted (Ctrl-C); events are decoded by `decode_event`, which `reboot --wait` and the
other long operations reuse for their progress display.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from talos.talosctl.nodeapi import Session, call, format_table
from talos.talosctl.timefmt import parse_duration

PREFIX = "talos/runtime/"


@dataclass(frozen=True)
class EventView:
    node: str
    id: str
    type: str       # e.g. machine.SequenceEvent
    actor: str
    source: str
    message: str
    payload: Any


def decode_event(node: str, ev: Any) -> EventView:
    from talos.api.machine import machine_pb2 as m
    type_name = ev.data.type_url.removeprefix(PREFIX)
    short = type_name.rsplit(".", 1)[-1]
    cls = getattr(m, short, None)
    payload: Any = None
    source = message = ""
    if cls is not None:
        payload = cls()
        payload.ParseFromString(ev.data.value)
        if short == "SequenceEvent":
            source = payload.sequence
            message = m.SequenceEvent.Action.Name(payload.action).lower()
            if payload.error.message:
                message += f": {payload.error.message}"
        elif short == "PhaseEvent":
            source = payload.phase
            message = m.PhaseEvent.Action.Name(payload.action).lower()
        elif short == "TaskEvent":
            source = payload.task
            message = m.TaskEvent.Action.Name(payload.action).lower()
        elif short == "ServiceStateEvent":
            source = payload.service
            message = f"{m.ServiceStateEvent.Action.Name(payload.action)}: {payload.message}"
        elif short == "MachineStatusEvent":
            source = "machine"
            message = m.MachineStatusEvent.MachineStage.Name(payload.stage)
        else:
            message = str(payload).replace("\n", " ").strip()
    return EventView(node, ev.id, type_name, ev.actor_id, source, message, payload)




@click.command()
@click.option("--tail", type=int, default=0, show_default=True,
              help="show specified number of past events (use -1 to show full history, "
                   "default is to show no history)")
@click.option("--since", "since_id", default="", help="show events after the specified "
              "event ID (default is to show no history)")
@click.option("--duration", default="", help="show events for the past duration interval "
              "(one second resolution, default is to show no history)")
@click.option("--actor-id", default="", help="filter events by the specified actor ID "
              "(default is no filter)")
@click.pass_context
def events(ctx: click.Context, tail: int, since_id: str, duration: str, actor_id: str) -> None:
    """Stream runtime events."""
    from talos.api.machine import machine_pb2 as m
    if tail < -1:
        raise click.BadParameter(f"expected -1 (all) or a count >= 0, got {tail}",
                                 param_hint="--tail")
    seconds = int(parse_duration(duration, "--duration")) if duration else 0
    req = m.EventsRequest(tail_events=tail, tail_id=since_id, tail_seconds=seconds,
                          with_actor_id=actor_id)

    async def run(s: Session) -> None:
        header = format_table([("NODE", "ID", "EVENT", "ACTOR", "SOURCE", "MESSAGE")])
        click.echo(header, nl=False)
        async for ev in s.machine().Events(req, metadata=s.md):
            if ev.metadata.error:
                s.errors.append((s.node_of(ev), ev.metadata.error))
                continue
            v = decode_event(s.node_of(ev), ev)
            click.echo(f"{v.node}   {v.id}   {v.type}   {v.actor}   {v.source}   "
                       f"{v.message}")
        s.raise_errors()

    call(ctx, run)
