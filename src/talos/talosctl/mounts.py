"""`talosctl mounts`: mounted filesystems with their sizes in GB."""

from __future__ import annotations

import click

from talos.talosctl.formats import emit, output_option
from talos.talosctl.nodeapi import Session, call, echo_table

GB = 1e9


@click.command()
@output_option
@click.pass_context
def mounts(ctx: click.Context, output: str) -> None:
    """List mounts."""
    from google.protobuf import empty_pb2

    async def run(s: Session) -> None:
        reply = await s.machine().Mounts(empty_pb2.Empty(), metadata=s.md)
        answered = s.ok(reply.messages)
        if emit(((s.node_of(msg), msg) for msg in answered), output):
            s.raise_errors()
            return
        rows = [("NODE", "FILESYSTEM", "SIZE(GB)", "USED(GB)", "AVAILABLE(GB)",
                 "PERCENT USED", "MOUNTED ON")]
        for msg in answered:
            for st in msg.stats:
                used = st.size - st.available
                pct = f"{100 * used / st.size:.2f}%" if st.size else "-"
                rows.append((s.node_of(msg), st.filesystem, f"{st.size / GB:.2f}",
                             f"{used / GB:.2f}", f"{st.available / GB:.2f}", pct,
                             st.mounted_on))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)
