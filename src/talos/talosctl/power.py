"""`talosctl reboot [--wait] [--mode]`, `shutdown [--force] [--wait]` and
`reset [--graceful] [--reboot] [--system-labels-to-wipe]`.

A change aimed at more than one node needs the nodes named with -n (never the context's
default list). With --wait (the default, as in Talos) progress is shown per node from the
Events stream and the command ends with a per-node result.
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
from talos.talosctl.progress import go_bool, report, run_tracked

_wait = go_bool("--wait", default=True,
                help="wait for the operation to complete, tracking its progress")
_timeout = click.option("--timeout", type=float, default=1800.0, show_default=True,
                        help="seconds to wait for the operation to complete (with --wait "
                             "or --debug)")
_debug = click.option("--debug", is_flag=True,
                      help="debug operation from kernel logs. --wait is set to true when "
                           "this flag is set")


def _acked(s: Session, reply: Any, what: str) -> None:
    rows = [("NODE", "RESULT")]
    rows += [(s.node_of(msg), what) for msg in s.ok(reply.messages)]
    echo_table(rows)
    s.raise_errors()


@click.command()
@click.option("-m", "--mode", type=click.Choice(["default", "powercycle"]), default="default",
              show_default=True, help="select the reboot mode")
@_wait
@_debug
@_timeout
@click.pass_context
def reboot(ctx: click.Context, mode: str, wait: bool, debug: bool, timeout: float) -> None:
    """Reboot a node."""
    from talos.api.machine import machine_pb2 as m
    nodes = require_explicit_nodes(ctx, "reboot")
    req = m.RebootRequest(mode=m.RebootRequest.POWERCYCLE if mode == "powercycle"
                          else m.RebootRequest.DEFAULT)

    async def run(s: Session) -> None:
        async def action() -> Any:
            return await s.machine().Reboot(req, metadata=s.md)
        if not (wait or debug):
            _acked(s, await action(), "reboot requested")
            return
        report(await run_tracked(s, action, expect="reboot", wait_seconds=timeout,
                                 debug=debug))

    call(ctx, run, nodes=nodes)


@click.command()
@click.option("--force", is_flag=True, help="if true, force a node to shutdown without a "
              "cordon/drain")
@_wait
@_debug
@_timeout
@click.pass_context
def shutdown(ctx: click.Context, force: bool, wait: bool, debug: bool, timeout: float) -> None:
    """Shutdown a node."""
    from talos.api.machine import machine_pb2 as m
    nodes = require_explicit_nodes(ctx, "shut down")

    async def run(s: Session) -> None:
        async def action() -> Any:
            return await s.machine().Shutdown(m.ShutdownRequest(force=force), metadata=s.md)
        if not (wait or debug):
            _acked(s, await action(), "shutdown requested")
            return
        report(await run_tracked(s, action, expect="poweroff", wait_seconds=timeout,
                                 debug=debug))

    call(ctx, run, nodes=nodes)


def _labels(_ctx: click.Context, _p: click.Parameter, value: tuple[str, ...]) -> list[str]:
    out = [v.strip() for item in value for v in item.split(",") if v.strip()]
    for label in out:
        if not label.replace("-", "").replace("_", "").isalnum():
            raise click.BadParameter(f"{label!r}: expected a partition label such as "
                                     "STATE or EPHEMERAL")
    return out


@click.command()
@click.option("--graceful", type=click.BOOL, default=True, is_flag=False, flag_value=True,
              show_default=True, help="if true, attempt to cordon/drain node and leave etcd "
                                      "(if applicable)")
@click.option("--reboot", "reboot_", is_flag=True,
              help="if true, reboot the node after resetting instead of shutting down")
@click.option("--system-labels-to-wipe", multiple=True, callback=_labels, metavar="LABELS",
              help="if set, just wipe selected system disk partitions by label but keep "
                   "other partitions intact")
@click.option("--user-disks-to-wipe", multiple=True, metavar="DISKS",
              help="if set, wipes defined devices in the list")
@click.option("--wipe-mode", type=click.Choice(["all", "system-disk", "user-disks"]),
              default="all", show_default=True, help="disk reset mode")
@click.option("--insecure", is_flag=True, help="reset using the insecure (encrypted with no "
              "auth) maintenance service (no progress: that service has no event stream)")
@_wait
@_debug
@_timeout
@click.pass_context
def reset(ctx: click.Context, graceful: bool, reboot_: bool,
          system_labels_to_wipe: list[str], user_disks_to_wipe: tuple[str, ...],
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
        user_disks_to_wipe=list(user_disks_to_wipe),
        mode={"all": m.ResetRequest.ALL, "system-disk": m.ResetRequest.SYSTEM_DISK,
              "user-disks": m.ResetRequest.USER_DISKS}[wipe_mode])

    async def run(s: Session) -> None:
        async def action() -> Any:
            return await s.machine().Reset(req, metadata=s.md)
        if insecure or not (wait or debug):
            _acked(s, await action(), "reset requested")
            return
        report(await run_tracked(s, action, expect="reset" if reboot_ else "poweroff",
                                 wait_seconds=timeout, debug=debug))

    call(ctx, run, nodes=nodes, insecure=insecure)
