"""`talosctl memory [-v]`: memory usage in MB (verbose: every /proc/meminfo field)."""

from __future__ import annotations

import click

from talos.talosctl.formats import emit, output_option
from talos.talosctl.nodeapi import Session, call, echo_table


@click.command()
@click.option("-v", "--verbose", is_flag=True, help="display extended memory statistics")
@output_option
@click.pass_context
def memory(ctx: click.Context, verbose: bool, output: str) -> None:
    """Show memory usage."""
    from google.protobuf import empty_pb2

    async def run(s: Session) -> None:
        reply = await s.machine().Memory(empty_pb2.Empty(), metadata=s.md)
        msgs = s.ok(reply.messages)
        if output != "table":
            emit(((s.node_of(msg), msg) for msg in msgs), output)
        elif verbose:
            for i, msg in enumerate(msgs):
                if i:
                    click.echo()
                click.echo(f"NODE: {s.node_of(msg)}")
                for f in msg.meminfo.DESCRIPTOR.fields:
                    value = getattr(msg.meminfo, f.name)
                    click.echo(f"{f.name.capitalize()}: {value // 1024} MB")
        else:
            rows: list[tuple[str, ...]] = [("NODE", "TOTAL", "USED", "FREE", "SHARED",
                                            "BUFFERS", "CACHE", "AVAILABLE")]
            for msg in msgs:
                mi = msg.meminfo
                used = mi.memtotal - mi.memfree - mi.cached - mi.buffers
                rows.append((s.node_of(msg), *(str(v // 1024) for v in (
                    mi.memtotal, used, mi.memfree, mi.shmem, mi.buffers, mi.cached,
                    mi.memavailable))))
            echo_table(rows)
        s.raise_errors()

    call(ctx, run)
