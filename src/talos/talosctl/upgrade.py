"""`talosctl upgrade` and `talosctl rollback` (Talos v1.13.9).

upgrade: the node pulls the installer image (`--image`, default upstream's installer of
this version), writes it to its inactive boot slot and reboots into it (`--stage` too:
the node reboots and that boot applies the staged slot, as upstream's StageUpgrade
sequence, which reboots). With --wait (the default, as upstream)
progress is shown per node as for `talosctl reboot`, then each node's version before and
after. Without --wait it prints upstream's NODE/ACK/STARTED table.

This talosctl always calls MachineService.Upgrade (upstream v1.13.9's "legacy" API, which
takes --stage, --force and --preserve; its default path is LifecycleService.Upgrade, which
the nodes serve as well, followed by a reboot). `--force` skips the node's etcd quorum
check on a control plane; `--preserve` is accepted (these nodes never wipe EPHEMERAL on an
upgrade) and, as upstream, also skips that check.

rollback: the node makes its previous image the default and reboots into it.
"""

from __future__ import annotations

from typing import Any

import click

from talos.machinery.version import TAG
from talos.talosctl.nodeapi import Session, call, echo_table, require_explicit_nodes
from talos.talosctl.progress import go_bool, report, run_tracked
from talos.talosctl.progress_view import choose_view
from talos.talosctl.timefmt import DURATION

DEFAULT_IMAGE = f"ghcr.io/siderolabs/installer:{TAG}"


class _Replies:
    """The messages of several fan-out replies, as one reply."""

    def __init__(self, replies: list[Any]) -> None:
        self.messages = [msg for r in replies for msg in r.messages]


async def endpoint_last(s: Session, md: tuple[tuple[str, str], ...],
                        send: Any) -> Any:
    """`send(metadata)` to the nodes in `md`, the endpoint's own node last: a node reboots
    once its upgrade (or rollback) is written, and the endpoint's apid proxies the calls to
    the others; rebooting it first would cancel those still in flight."""
    from talos.machinery.client.connection import nodes_metadata
    nodes = [v for k, v in md if k == "nodes"] or [v for k, v in md if k == "node"]
    flat = [n for v in nodes for n in v.split(",") if n]
    ep = s.endpoint_host
    others, last = [n for n in flat if n != ep], [n for n in flat if n == ep]
    if not (others and last):
        return await send(md)
    return _Replies([await send(nodes_metadata(others)), await send(nodes_metadata(last))])


async def _versions(s: Session, nodes: list[str]) -> dict[str, str]:
    """Each node's version tag ("" for a node that does not answer)."""
    import grpc
    from google.protobuf import empty_pb2

    from talos.machinery.client.connection import nodes_metadata
    out: dict[str, str] = {}
    for node in nodes or [""]:
        try:
            reply = await s.machine().Version(empty_pb2.Empty(), timeout=10,
                                              metadata=nodes_metadata([node] if node else []))
        except grpc.RpcError:  # a node that does not answer shows as unknown
            out[node or s.endpoint_host] = ""
            continue
        for msg in reply.messages:
            if not msg.metadata.error:
                out[node or s.node_of(msg)] = msg.version.tag
    return out


@click.command()
@click.option("-i", "--image", default=DEFAULT_IMAGE, show_default=True,
              help="the container image to use for performing the install")
@click.option("-m", "--reboot-mode", type=click.Choice(["default", "powercycle"]),
              default="default", show_default=True,
              help="select the reboot mode during upgrade. Mode \"powercycle\" bypasses "
                   "kexec (these nodes have none: the same full restart)")
@click.option("-s", "--stage", is_flag=True,
              help="stage the upgrade to perform it after a reboot")
@click.option("-p", "--preserve", is_flag=True, help="preserve data")
@click.option("-f", "--force", is_flag=True,
              help="force the upgrade (skip checks on etcd health and members, might lead "
                   "to data loss)")
@go_bool("--wait", default=True,
         help="wait for the operation to complete, tracking its progress. always set to "
              "true when --debug is set")
@click.option("--debug", is_flag=True,
              help="debug operation from kernel logs. --wait is set to true when this flag "
                   "is set")
@click.option("--timeout", type=DURATION, default="30m0s", show_default=True,
              help="time to wait for the operation is complete if --debug or --wait is set")
@click.pass_context
def upgrade(ctx: click.Context, image: str, reboot_mode: str, stage: bool, preserve: bool,
            force: bool, wait: bool, debug: bool, timeout: float) -> None:
    """Upgrade Talos on the target node."""
    from talos.api.machine import machine_pb2 as m
    nodes = require_explicit_nodes(ctx, "upgrade")
    req = m.UpgradeRequest(image=image, stage=stage, preserve=preserve, force=force,
                           reboot_mode=reboot_mode.upper())

    async def run(s: Session) -> None:
        async def action(md: Any) -> Any:
            return await endpoint_last(
                s, md, lambda m_: s.machine().Upgrade(req, metadata=m_))

        if not (wait or debug):
            import datetime
            reply = await action(s.md)
            now = datetime.datetime.now().astimezone().isoformat(sep=" ")
            rows = [(s.node_of(msg), msg.ack, now) for msg in s.ok(reply.messages)]
            if rows:
                echo_table([("NODE", "ACK", "STARTED"), *rows])
            s.raise_errors()
            return
        before = await _versions(s, s.nodes)
        view = choose_view()
        outcomes = await run_tracked(s, action, expect="reboot", wait_seconds=timeout,
                                     view=view, debug=debug)
        after = await _versions(s, s.nodes)
        try:
            report(outcomes, view)
        finally:
            rows = [(o.node, before.get(o.node, "") or "?",
                     (after.get(o.node, "") or "?") if o.ok else "?") for o in outcomes]
            echo_table([("NODE", "FROM", "TO"), *rows])

    call(ctx, run, nodes=nodes)


@click.command()
@click.pass_context
def rollback(ctx: click.Context) -> None:
    """Rollback a node to the previous installation."""
    from talos.api.machine import machine_pb2 as m
    nodes = require_explicit_nodes(ctx, "roll back")

    async def run(s: Session) -> None:
        import grpc
        try:
            reply = await endpoint_last(
                s, s.md, lambda m_: s.machine().Rollback(m.RollbackRequest(), metadata=m_))
        except grpc.RpcError as e:
            raise click.ClickException(
                f"error executing rollback: {e.details() or e.code().name}") from None
        s.ok(reply.messages)
        if s.errors:
            raise click.ClickException("error executing rollback: " + "; ".join(
                f"{node}: {msg}" if node else msg for node, msg in s.errors))

    call(ctx, run, nodes=nodes)
