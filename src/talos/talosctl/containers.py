"""`talosctl containers [-k]` and `talosctl stats [-k]`: containers on the node's runtime.

machined has no container runtime API yet: the node answers UNIMPLEMENTED and the command
says so in one line.
"""

from __future__ import annotations

from typing import Any

import click

from talos.talosctl.nodeapi import Session, call, echo_table, unimplemented_aware

UNIMPLEMENTED_HINT = ("the node's container runtime API (CRI/containerd) is not implemented in "
                      "this Talos yet")


def _request(kubernetes: bool) -> tuple[str, Any]:
    from talos.api.common import common_pb2
    return ("k8s.io", common_pb2.CRI) if kubernetes else ("system", common_pb2.CONTAINERD)


@click.command()
@click.option("-k", "--kubernetes", is_flag=True, help="use the k8s.io containerd namespace")
@click.pass_context
def containers(ctx: click.Context, kubernetes: bool) -> None:
    """List containers."""
    from talos.api.machine import machine_pb2 as m
    ns, driver = _request(kubernetes)

    async def run(s: Session) -> None:
        reply = await unimplemented_aware(
            s, s.machine().Containers(m.ContainersRequest(namespace=ns, driver=driver),
                                      metadata=s.md), "containers", UNIMPLEMENTED_HINT)
        rows = [("NODE", "NAMESPACE", "ID", "IMAGE", "PID", "STATUS")]
        for msg in s.ok(reply.messages):
            for c in msg.containers:
                cid = c.id if not c.pod_id or c.pod_id == c.id else f"└─ {c.id}"
                rows.append((s.node_of(msg), c.namespace, cid, c.image, str(c.pid),
                             c.status))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)


@click.command()
@click.option("-k", "--kubernetes", is_flag=True, help="use the k8s.io containerd namespace")
@click.pass_context
def stats(ctx: click.Context, kubernetes: bool) -> None:
    """Get container stats."""
    from talos.api.machine import machine_pb2 as m
    ns, driver = _request(kubernetes)

    async def run(s: Session) -> None:
        reply = await unimplemented_aware(
            s, s.machine().Stats(m.StatsRequest(namespace=ns, driver=driver), metadata=s.md),
            "stats", UNIMPLEMENTED_HINT)
        rows = [("NODE", "NAMESPACE", "ID", "MEMORY(MB)", "CPU")]
        for msg in s.ok(reply.messages):
            for st in msg.stats:
                rows.append((s.node_of(msg), st.namespace, st.id,
                             f"{st.memory_usage / 1024 / 1024:.2f}", str(st.cpu_usage)))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)
