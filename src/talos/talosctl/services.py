"""`talosctl services` and `talosctl service ID [start|stop|restart|status]`."""

from __future__ import annotations

import time
from typing import Any

import click

from talos.talosctl.formats import emit, output_option
from talos.talosctl.nodeapi import Session, call, echo_table, require_explicit_nodes
from talos.talosctl.timefmt import go_duration


def _ago(ts: Any) -> str:
    if not ts.seconds and not ts.nanos:
        return ""
    return go_duration(time.time() - ts.ToNanoseconds() / 1e9) + " ago"


def health_label(h: Any) -> str:
    if h.unknown:
        return "?"
    return "OK" if h.healthy else "Fail"


@click.command()
@output_option
@click.pass_context
def services(ctx: click.Context, output: str) -> None:
    """List services for the control plane."""
    _list(ctx, output)


def _list(ctx: click.Context, output: str) -> None:
    from google.protobuf import empty_pb2

    async def run(s: Session) -> None:
        reply = await s.machine().ServiceList(empty_pb2.Empty(), metadata=s.md)
        answered = s.ok(reply.messages)
        if emit(((s.node_of(msg), msg) for msg in answered), output):
            s.raise_errors()
            return
        rows = [("NODE", "SERVICE", "STATE", "HEALTH", "LAST CHANGE", "LAST EVENT")]
        for msg in answered:
            node = s.node_of(msg)
            for svc in msg.services:
                events = svc.events.events
                rows.append((node, svc.id, svc.state, health_label(svc.health),
                             _ago(svc.health.last_change),
                             events[-1].msg.split("\n", 1)[0] if events else ""))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)


@click.command()
@click.argument("service_id", metavar="[<id>]", required=False)
@click.argument("action", metavar="[start|stop|restart|status]", required=False,
                default="status", type=click.Choice(["start", "stop", "restart", "status"]))
@output_option
@click.pass_context
def service(ctx: click.Context, service_id: str | None, action: str, output: str) -> None:
    """Retrieve the state of a service (or all services), control service state.

    Without arguments, lists all the services and their state (as `services`). With a
    service ID, the default action 'status' shows that service; 'start', 'stop' and
    'restart' change its state. Service control is limited to services that support it
    (apid, trustd, etcd, containerd, kubelet and extension services).
    """
    if service_id is None:
        _list(ctx, output)
        return
    if action == "status":
        _status(ctx, service_id, output)
        return
    from talos.api.machine import machine_pb2 as m
    nodes = require_explicit_nodes(ctx, f"{action} service {service_id!r} on")

    async def run(s: Session) -> None:
        api = s.machine()
        reply: Any
        if action == "start":
            reply = await api.ServiceStart(m.ServiceStartRequest(id=service_id), metadata=s.md)
        elif action == "stop":
            reply = await api.ServiceStop(m.ServiceStopRequest(id=service_id), metadata=s.md)
        else:
            reply = await api.ServiceRestart(m.ServiceRestartRequest(id=service_id),
                                             metadata=s.md)
        answered = [(s.node_of(msg), msg) for msg in s.ok(reply.messages)]
        if not emit(answered, output):
            echo_table([("NODE", "RESPONSE"), *((node, msg.resp) for node, msg in answered)])
        s.raise_errors()

    call(ctx, run, nodes=nodes)


def _status(ctx: click.Context, service_id: str, output: str = "table") -> None:
    from google.protobuf import empty_pb2

    async def run(s: Session) -> None:
        reply = await s.machine().ServiceList(empty_pb2.Empty(), metadata=s.md)
        _print_status(s, reply, service_id, output)

    call(ctx, run)


def _print_status(s: Session, reply: Any, service_id: str, output: str = "table") -> None:
    missing = []
    first = True
    found_on = []
    for msg in s.ok(reply.messages):
        node = s.node_of(msg)
        found = [svc for svc in msg.services if svc.id == service_id]
        if not found:
            missing.append((node, f"service {service_id!r} is not registered on this node"))
            continue
        found_on.append((node, found[0]))
    if emit(found_on, output):
        found_on = []
    for node, svc in found_on:
        if not first:
            click.echo()
        first = False
        rows = [("NODE", node), ("ID", svc.id), ("STATE", svc.state),
                ("HEALTH", health_label(svc.health))]
        if svc.health.last_message:
            rows.append(("LAST HEALTH MESSAGE", svc.health.last_message))
        label = "EVENTS"
        for ev in reversed(svc.events.events):
            rows.append((label, f"[{ev.state}]: {ev.msg} ({_ago(ev.ts)})"))
            label = ""
        width = max(len(r[0]) for r in rows) + 3
        for k, v in rows:
            click.echo(k.ljust(width) + v)
    s.errors.extend(missing)
    s.raise_errors()
