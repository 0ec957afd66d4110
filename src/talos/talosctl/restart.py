"""`talosctl restart ID [-k]`: restart a container (Talos v1.13.9 `restart.go`).

Without `-k` the id is one of the `system` namespace's containers, which are machined's
services here: the node restarts the service as `talosctl service ID restart` does. With
`-k` the id is a container in containerd's `k8s.io` namespace, which the node sends SIGTERM
for the kubelet to start again (none exist while no kubelet runs: the node answers NotFound).
Prints nothing on success, as upstream; a failure reads `error restarting process: ...`.
"""

from __future__ import annotations

import click

from talos.talosctl.nodeapi import Session, call, require_explicit_nodes


@click.command()
@click.argument("container_id", metavar="<id>")
@click.option("-k", "--kubernetes", is_flag=True, help="use the k8s.io containerd namespace")
@click.option("--use-cri", is_flag=True, hidden=True, help="use the CRI driver")
@click.pass_context
def restart(ctx: click.Context, container_id: str, kubernetes: bool, use_cri: bool) -> None:
    """Restart a process."""
    from talos.api.common import common_pb2
    from talos.api.machine import machine_pb2 as m
    # upstream accepts --use-cri and ignores it: -k alone picks namespace and driver
    req = m.RestartRequest(namespace="k8s.io" if kubernetes else "system", id=container_id,
                           driver=common_pb2.CRI if kubernetes else common_pb2.CONTAINERD)
    nodes = require_explicit_nodes(ctx, f"restart {container_id!r} on")

    async def run(s: Session) -> None:
        s.ok((await s.machine().Restart(req, metadata=s.md)).messages)
        s.raise_errors()

    try:
        call(ctx, run, nodes=nodes)
    except click.ClickException as e:
        raise click.ClickException(f"error restarting process: {e.message}") from None
