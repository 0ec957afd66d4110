"""`talosctl containers [-k]` and `talosctl stats [-k]`: what runs on the node.

The `system` namespace lists machined's services (processes here, containers in Talos) and
anything in containerd's `system` namespace; `-k` lists containerd's `k8s.io` namespace
(Kubernetes' containers; empty when no kubelet runs). Rows are sorted by ID; a container
inside a pod is shown as `└─ ID` under it, as Talos does.
"""

from __future__ import annotations

from typing import Any

import click

from talos.talosctl.nodeapi import Session, call, echo_table, unimplemented_aware

UNIMPLEMENTED_HINT = "the node does not serve container listings (an older machined?)"


def _request(kubernetes: bool, use_cri: bool = False) -> tuple[str, Any]:
    from talos.api.common import common_pb2
    if kubernetes:
        return "k8s.io", common_pb2.CRI
    return "system", common_pb2.CRI if use_cri else common_pb2.CONTAINERD


def _display(cid: str, pod_id: str) -> str:
    return cid if not pod_id or pod_id == cid else f"└─ {cid}"


_K8S = click.option("-k", "--kubernetes", is_flag=True,
                    help="use the k8s.io containerd namespace")
_CRI = click.option("-c", "--use-cri", is_flag=True, hidden=True, help="use the CRI driver")


@click.command()
@_K8S
@_CRI
@click.pass_context
def containers(ctx: click.Context, kubernetes: bool, use_cri: bool) -> None:
    """List containers."""
    from talos.api.machine import machine_pb2 as m
    ns, driver = _request(kubernetes, use_cri)

    async def run(s: Session) -> None:
        reply = await unimplemented_aware(
            s, s.machine().Containers(m.ContainersRequest(namespace=ns, driver=driver),
                                      metadata=s.md), "containers", UNIMPLEMENTED_HINT)
        rows = [("NODE", "NAMESPACE", "ID", "IMAGE", "PID", "STATUS")]
        for msg in s.ok(reply.messages):
            for c in sorted(msg.containers, key=lambda c: c.id):
                rows.append((s.node_of(msg), c.namespace, _display(c.id, c.pod_id), c.image,
                             str(c.pid), c.status))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)


@click.command()
@_K8S
@_CRI
@click.pass_context
def stats(ctx: click.Context, kubernetes: bool, use_cri: bool) -> None:
    """Get container stats."""
    from talos.api.machine import machine_pb2 as m
    ns, driver = _request(kubernetes, use_cri)

    async def run(s: Session) -> None:
        reply = await unimplemented_aware(
            s, s.machine().Stats(m.StatsRequest(namespace=ns, driver=driver), metadata=s.md),
            "stats", UNIMPLEMENTED_HINT)
        rows = [("NODE", "NAMESPACE", "ID", "MEMORY(MB)", "CPU")]
        for msg in s.ok(reply.messages):
            for st in sorted(msg.stats, key=lambda st: st.id):
                # as Talos: memory in MB (10^6 bytes), CPU as cumulative nanoseconds
                rows.append((s.node_of(msg), st.namespace, _display(st.id, st.pod_id),
                             f"{st.memory_usage * 1e-6:.2f}", str(st.cpu_usage)))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)
