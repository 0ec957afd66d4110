"""`talosctl health`: wait for the cluster to be healthy, with live progress per check.

Client-side, as Talos's `talosctl health` without `--server=true`: every check runs through the
endpoint's apid with node targeting. The control planes and workers come from
`--control-plane-nodes` / `--worker-nodes`, or else from the local cluster (`cluster create`)
named like the current context, or else from the context's nodes (all treated as control
planes). A timeout names the check and its last error and exits non-zero.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import click

from talos.talosctl.timefmt import parse_duration

_MARK = {"ok": "[green]OK[/]", "skipped": "[yellow]SKIPPED[/]", "failed": "[red]FAILED[/]",
         "waiting": "[cyan]…[/]"}


class ProgressView:
    """Shows one line per check: live (rich) on a terminal, plain lines otherwise."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.rows: dict[str, tuple[str, str]] = {}
        self.live: Any = None
        self.started = time.monotonic()

    def __enter__(self) -> ProgressView:
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(self._render(), console=self.console, refresh_per_second=8,
                             transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.update(self._render())
            self.live.__exit__(None, None, None)

    def _render(self) -> Any:
        from rich.table import Table

        table = Table.grid(padding=(0, 1))
        for check, (state, message) in self.rows.items():
            table.add_row(f"waiting for {check}:", _MARK.get(state, state),
                          f"[dim]{message}[/]" if message else "")
        return table

    def update(self, check: str, state: str, message: str = "") -> None:
        prev = self.rows.get(check)
        self.rows[check] = (state, message)
        if self.live is not None:
            self.live.update(self._render())
            return
        if prev == (state, message):
            return
        if state == "waiting" and prev is not None and prev[0] == "waiting":
            return  # plain output: one line per check start and result
        text = f"waiting for {check}: " + (
            "..." if state == "waiting" else f"{state.upper()}" + (f" ({message})"
                                                                   if message else ""))
        self.console.print(text, markup=False, soft_wrap=True)

    def on_progress(self, p: Any) -> None:
        self.update(p.check, p.state, p.message)


async def run_health(opts: Any, controlplanes: tuple[str, ...], workers: tuple[str, ...],
                     wait_timeout: float, view: ProgressView, *,
                     discover_from: tuple[str, ...] | None = None) -> None:
    """`discover_from` (the -n nodes, possibly none: the endpoint): take the nodes from
    that node's `get members`; if it lists none, check those nodes as control planes."""
    from talos.machinery.client.connection import connect
    from talos.machinery.client.health import (
        CheckFailed,
        ClusterInfo,
        discover_cluster_info,
        wait_healthy,
    )

    conn = await connect(opts)
    try:
        info = ClusterInfo(controlplanes, workers)
        if discover_from is not None:
            try:
                info = await discover_cluster_info(
                    conn, discover_from[0] if discover_from else None)
            except CheckFailed as e:
                if not discover_from:
                    raise
                click.echo(f"discovery: {e}; checking {', '.join(discover_from)} as "
                           "control plane(s)", err=True)
                info = ClusterInfo(discover_from)
        await wait_healthy(conn, info, wait_timeout, view.on_progress)
    finally:
        await conn.close()


async def run_server_health(opts: Any, controlplanes: tuple[str, ...],
                            workers: tuple[str, ...], wait_timeout: float) -> None:
    """Stream the endpoint node's HealthCheck progress to stderr."""
    import grpc
    from google.protobuf import duration_pb2

    from talos.api.cluster import cluster_pb2, cluster_pb2_grpc
    from talos.machinery.client.connection import connect

    conn = await connect(opts)
    try:
        stub = cluster_pb2_grpc.ClusterServiceStub(conn.channel)
        wait = duration_pb2.Duration()
        wait.FromNanoseconds(int(wait_timeout * 1e9))
        request = cluster_pb2.HealthCheckRequest(
            wait_timeout=wait, cluster_info=cluster_pb2.ClusterInfo(
                control_plane_nodes=controlplanes, worker_nodes=workers))
        try:
            async for progress in stub.HealthCheck(request, timeout=wait_timeout + 30):
                click.echo(progress.message, err=True)
        except grpc.RpcError as e:
            raise conn.explain(e) from None
    finally:
        await conn.close()


def _local_cluster_nodes(ctx: click.Context) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Without node flags: the nodes of the local cluster named like the current context
    (as `cluster create` names it), if there is one under ~/.talos/clusters."""
    from talos.machinery.errors import TalosError
    from talos.provision.state import ClusterRecord, default_state_dir
    from talos.talosctl.connect import _global, current_context

    g = _global(ctx)
    if g.nodes:
        return (), ()
    try:
        from talos.machinery.client.talosconfig import Talosconfig, resolve_path

        cfg = Talosconfig.load(resolve_path(g.talosconfig))
        name = g.context or cfg.context
        record = ClusterRecord.load(default_state_dir() / name)
        if set(current_context(ctx).endpoints) != {n.address for n in record.controlplanes}:
            return (), ()
    except (TalosError, click.ClickException):
        return (), ()
    return (tuple(n.address for n in record.controlplanes),
            tuple(n.address for n in record.workers))


@click.command("health")
@click.option("--control-plane-nodes", multiple=True, metavar="IPS",
              help="specify IPs of control plane nodes")
@click.option("--worker-nodes", multiple=True, metavar="IPS", help="specify IPs of worker nodes")
@click.option("--wait-timeout", default="20m", show_default=True,
              help="timeout to wait for the cluster to be ready")
@click.option("--server/--no-server", default=False,
              help="run the checks on the endpoint node (cluster.ClusterService/HealthCheck) "
                   "instead of from talosctl")
@click.pass_context
def health(ctx: click.Context, control_plane_nodes: tuple[str, ...],
           worker_nodes: tuple[str, ...], wait_timeout: str, server: bool) -> None:
    """Check cluster health."""
    from talos.machinery.errors import TalosError
    from talos.talosctl.connect import target_nodes

    timeout = parse_duration(wait_timeout, "--wait-timeout")
    cps = tuple(n for item in control_plane_nodes for n in item.split(",") if n)
    wks = tuple(n for item in worker_nodes for n in item.split(",") if n)
    if not cps:
        cps, wks = _local_cluster_nodes(ctx)
    # neither flags nor a local cluster: discover the nodes from the cluster members the
    # node (-n, else the endpoint) lists, as Talos does
    discover_from = None if cps else tuple(target_nodes(ctx))
    from talos.talosctl.connect import connection_options  # (grpc: only when used)

    opts = connection_options(ctx)
    error: TalosError | None = None
    if server:
        try:
            asyncio.run(run_server_health(opts, cps, wks, timeout))
        except TalosError as e:
            error = e
    else:
        with ProgressView() as view:
            try:
                asyncio.run(run_health(opts, cps, wks, timeout, view,
                                       discover_from=discover_from))
            except TalosError as e:
                error = e
    if error is not None:
        click.echo(f"healthcheck error: {error}", err=True)
        sys.exit(1)
