"""`talosctl processes` (alias `ps`) [-s cpu|rss] [-w]: the node's processes."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from talos.talosctl.formats import emit, output_option
from talos.talosctl.nodeapi import Session, call, format_table, humanize_bytes

HEADER = ("NODE", "PID", "STATE", "THREADS", "CPU-TIME", "VIRTMEM", "RESMEM", "LABEL",
          "COMMAND")


def process_rows(s: Session, reply: Any, sort: str) -> list[tuple[str, ...]]:
    procs = [(s.node_of(msg), p) for msg in s.ok(reply.messages) for p in msg.processes]
    if sort == "cpu":
        procs.sort(key=lambda np: np[1].cpu_time, reverse=True)
    else:
        procs.sort(key=lambda np: np[1].resident_memory, reverse=True)
    rows: list[tuple[str, ...]] = [HEADER]
    for node, p in procs:
        command = p.args or p.command
        if p.executable and not p.args:
            command = p.executable
        rows.append((node, str(p.pid), p.state, str(p.threads), f"{p.cpu_time:.2f}",
                     humanize_bytes(p.virtual_memory), humanize_bytes(p.resident_memory),
                     p.label, command))
    return rows


@click.command()
@click.option("-s", "--sort", type=click.Choice(["rss", "cpu"]), default="rss",
              show_default=True, help="column to sort output by")
@click.option("-w", "--watch", is_flag=True, help="continuously update the output "
              "(until Ctrl-C)")
@output_option
@click.pass_context
def processes(ctx: click.Context, sort: str, watch: bool, output: str) -> None:
    """List running processes."""
    from google.protobuf import empty_pb2

    async def run(s: Session) -> None:
        while True:
            reply = await s.machine().Processes(empty_pb2.Empty(), metadata=s.md)
            if output != "table":
                emit(((s.node_of(msg), msg) for msg in s.ok(reply.messages)), output)
            else:
                text = format_table(process_rows(s, reply, sort))
                if watch:
                    click.clear()
                click.echo(text, nl=False)
            if not watch:
                break
            s.raise_errors()
            await asyncio.sleep(1)
        s.raise_errors()

    call(ctx, run)
