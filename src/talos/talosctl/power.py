"""`talosctl reboot [--wait] [--mode]`, `shutdown [--force] [--wait]` and
`reset [--graceful] [--reboot] [--system-labels-to-wipe]`.

A change aimed at more than one node needs the nodes named with -n (never the context's
default list). With --wait (the default, as in Talos) progress is shown per node from the
Events stream and the command ends with a per-node result; a node that cannot be reached
fails on its own line (exit 1) and is sent nothing. --timeout takes a Go duration (`5m`).

What the node does with each option (as Talos v1.11+, on a node without kexec, firmware or
Kubernetes): `reboot --mode powercycle` is the same full restart as the default (every
reboot stops all services and re-executes machined; the node logs that); `shutdown --force`
skips the cordon/drain phase (there is no kubelet to drain: the phase only says so);
`reset --wipe-mode user-disks` never touches STATE or EPHEMERAL (this node has no user
disks: naming one with --user-disks-to-wipe is refused).
"""

from __future__ import annotations

from typing import Any

import click

from talos.talosctl.nodeapi import (
    Session,
    call,
    echo_table,
    require_explicit_nodes,
)
from talos.talosctl.progress import Outcome, go_bool, report, run_tracked
from talos.talosctl.progress_view import choose_view
from talos.talosctl.timefmt import DURATION

_wait = go_bool("--wait", default=True,
                help="wait for the operation to complete, tracking its progress")
_timeout = click.option("--timeout", type=DURATION, default="30m0s", show_default=True,
                        help="time to wait for the operation to complete if --debug or "
                             "--wait is set (a duration: 90s, 5m, 1h)")


async def _tracked(s: Session, action: Any, *, expect: str, wait_seconds: float,
                   debug: bool) -> None:
    view = choose_view()
    outcomes: list[Outcome] = await run_tracked(s, action, expect=expect,
                                                wait_seconds=wait_seconds, view=view,
                                                debug=debug)
    report(outcomes, view)
_debug = click.option("--debug", is_flag=True,
                      help="debug operation from kernel logs. --wait is set to true when "
                           "this flag is set")


def _acked(s: Session, reply: Any, what: str) -> None:
    rows = [(s.node_of(msg), what) for msg in s.ok(reply.messages)]
    if rows:
        echo_table([("NODE", "RESULT"), *rows])
    s.raise_errors()


@click.command()
@click.option("-m", "--mode", type=click.Choice(["default", "powercycle", "force"]),
              default="default", show_default=True,
              help="select the reboot mode. Mode \"powercycle\" bypasses kexec (these nodes "
              "have none: it is the same full restart as the default); \"force\" (reboot "
              "without stopping services) is refused by these nodes")
@_wait
@_debug
@_timeout
@click.pass_context
def reboot(ctx: click.Context, mode: str, wait: bool, debug: bool, timeout: float) -> None:
    """Reboot a node."""
    from talos.api.machine import machine_pb2 as m
    nodes = require_explicit_nodes(ctx, "reboot")
    req = m.RebootRequest(mode=mode.upper())  # the enum label (click checked the choice)

    async def run(s: Session) -> None:
        async def action(md: Any) -> Any:
            return await s.machine().Reboot(req, metadata=md)
        if not (wait or debug):
            _acked(s, await action(s.md), "reboot requested")
            return
        await _tracked(s, action, expect="reboot", wait_seconds=timeout, debug=debug)

    call(ctx, run, nodes=nodes)


@click.command()
@click.option("--force", is_flag=True, help="if true, force a node to shutdown without a "
              "cordon/drain (the node skips its drain phase)")
@_wait
@_debug
@_timeout
@click.pass_context
def shutdown(ctx: click.Context, force: bool, wait: bool, debug: bool, timeout: float) -> None:
    """Shutdown a node."""
    from talos.api.machine import machine_pb2 as m
    nodes = require_explicit_nodes(ctx, "shut down")

    async def run(s: Session) -> None:
        async def action(md: Any) -> Any:
            return await s.machine().Shutdown(m.ShutdownRequest(force=force), metadata=md)
        if not (wait or debug):
            _acked(s, await action(s.md), "shutdown requested")
            return
        await _tracked(s, action, expect="poweroff", wait_seconds=timeout, debug=debug)

    call(ctx, run, nodes=nodes)


def _labels(_ctx: click.Context, _p: click.Parameter, value: tuple[str, ...]) -> list[str]:
    out = [v.strip() for item in value for v in item.split(",") if v.strip()]
    for label in out:
        if not label.replace("-", "").replace("_", "").isalnum():
            raise click.BadParameter(f"{label!r}: expected a partition label such as "
                                     "STATE or EPHEMERAL")
    return out


def _disks(_ctx: click.Context, _p: click.Parameter, value: tuple[str, ...]) -> list[str]:
    """A string slice as cobra's: repeated and/or comma-separated."""
    return [v.strip() for item in value for v in item.split(",") if v.strip()]


@click.command()
@click.option("--graceful", type=click.BOOL, default=True, is_flag=False, flag_value=True,
              show_default=True, help="if true, attempt to cordon/drain node and leave etcd "
                                      "(if applicable)")
@click.option("--reboot", "reboot_", is_flag=True,
              help="if true, reboot the node after resetting instead of shutting down")
@click.option("--system-labels-to-wipe", multiple=True, callback=_labels, metavar="LABELS",
              help="if set, just wipe selected system disk partitions by label but keep "
                   "other partitions intact")
@click.option("--user-disks-to-wipe", multiple=True, callback=_disks, metavar="DISKS",
              help="if set, wipes defined devices in the list")
@click.option("--wipe-mode", type=click.Choice(["all", "system-disk", "user-disks"]),
              default="all", show_default=True, help="disk reset mode (user-disks keeps the "
              "system disk: STATE and EPHEMERAL)")
@click.option("--insecure", is_flag=True, help="reset using the insecure (encrypted with no "
              "auth) maintenance service (no progress: that service has no event stream)")
@_wait
@_debug
@_timeout
@click.pass_context
def reset(ctx: click.Context, graceful: bool, reboot_: bool,
          system_labels_to_wipe: list[str], user_disks_to_wipe: list[str],
          wipe_mode: str, insecure: bool, wait: bool, debug: bool, timeout: float) -> None:
    """Reset a node."""
    from talos.api.machine import machine_pb2 as m
    from talos.talosctl.main import GlobalOptions
    g = ctx.find_object(GlobalOptions)
    insecure = insecure or (g is not None and g.insecure)
    nodes = require_explicit_nodes(ctx, "reset")
    req = m.ResetRequest(
        graceful=graceful, reboot=reboot_,
        system_partitions_to_wipe=[m.ResetPartitionSpec(label=lb, wipe=True)
                                   for lb in system_labels_to_wipe],
        user_disks_to_wipe=user_disks_to_wipe,
        mode={"all": m.ResetRequest.ALL, "system-disk": m.ResetRequest.SYSTEM_DISK,
              "user-disks": m.ResetRequest.USER_DISKS}[wipe_mode])

    async def run(s: Session) -> None:
        async def action(md: Any) -> Any:
            return await s.machine().Reset(req, metadata=md)
        if insecure or not (wait or debug):
            _acked(s, await action(s.md), "reset requested")
            return
        await _tracked(s, action, expect="reset" if reboot_ else "poweroff",
                       wait_seconds=timeout, debug=debug)

    call(ctx, run, nodes=nodes, insecure=insecure)
