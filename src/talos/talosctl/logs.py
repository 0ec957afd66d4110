"""`talosctl logs ID [-f] [--tail N] [-k]` and `talosctl dmesg [-f] [--tail]`.

Every line is prefixed with the node it came from (`<node>: <line>`), as talosctl prints
them; a line split across chunks is joined before printing.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

import click

from talos.talosctl.nodeapi import Session, call


async def print_lines(s: Session, stream: AsyncIterator[Any]) -> None:
    """Stream common.Data chunks as node-prefixed lines (partial lines buffered per node)."""
    pending: dict[str, bytes] = {}
    out = sys.stdout.buffer
    async for chunk in stream:
        node = s.node_of(chunk)
        md = chunk.metadata
        if md.error:
            s.errors.append((node, md.error))
            continue
        data = pending.pop(node, b"") + chunk.bytes
        lines = data.split(b"\n")
        if lines[-1]:
            pending[node] = lines[-1]
        for line in lines[:-1]:
            out.write(node.encode() + b": " + line + b"\n")
        out.flush()
    for node, rest in pending.items():
        out.write(node.encode() + b": " + rest + b"\n")
    out.flush()


@click.command()
@click.argument("service_id", metavar="<service name>")
@click.option("-f", "--follow", is_flag=True, help="specify if the logs should be streamed")
@click.option("--tail", type=int, default=-1, show_default=True,
              help="lines of log file to display (default is to show from the beginning)")
@click.option("-k", "--kubernetes", is_flag=True,
              help="use the k8s.io containerd namespace")
@click.option("--use-cri", is_flag=True, hidden=True, help="use the CRI driver")
@click.pass_context
def logs(ctx: click.Context, service_id: str, follow: bool, tail: int,
         kubernetes: bool, use_cri: bool) -> None:
    """Retrieve logs for a service."""
    from talos.api.common import common_pb2
    from talos.api.machine import machine_pb2 as m
    if tail < -1:
        raise click.BadParameter(f"expected -1 (everything) or a line count >= 0, got {tail}",
                                 param_hint="--tail")
    req = m.LogsRequest(namespace="k8s.io" if kubernetes else "system", id=service_id,
                        follow=follow, tail_lines=tail,
                        driver=common_pb2.CRI if kubernetes else common_pb2.CONTAINERD)

    async def run(s: Session) -> None:
        await print_lines(s, s.machine().Logs(req, metadata=s.md))
        s.raise_errors()

    call(ctx, run)


@click.command()
@click.option("-f", "--follow", is_flag=True, help="specify if the kernel log should be streamed")
@click.option("--tail", is_flag=True, help="specify if only new messages should be sent "
              "(makes sense only when combined with --follow)")
@click.pass_context
def dmesg(ctx: click.Context, follow: bool, tail: bool) -> None:
    """Retrieve kernel logs."""
    from talos.api.machine import machine_pb2 as m
    req = m.DmesgRequest(follow=follow, tail=tail)

    async def run(s: Session) -> None:
        await print_lines(s, s.machine().Dmesg(req, metadata=s.md))
        s.raise_errors()

    call(ctx, run)
