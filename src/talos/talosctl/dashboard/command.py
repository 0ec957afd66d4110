"""`talosctl dashboard [-d/--update-interval D]`: the full-screen node dashboard.

As upstream (v1.13.9 `cmd/talosctl/cmd/talos/dashboard.go`): no arguments, the nodes from
`-n` (else the context's), `-d/--update-interval` (default 3s) between statistics polls.
Before the screen opens the endpoint is asked for its Version, so a wrong endpoint or a
stale talosconfig is one clear error line, as for every other command; a node that does
not answer is shown as unreachable on the screen instead (upstream refuses to start).
"""

from __future__ import annotations

import asyncio
import sys

import click

from talos.talosctl.timefmt import parse_duration

HELP = """Provide a text-based UI to navigate node overview, logs and real-time metrics.

\b
Keyboard shortcuts:
 - h, <Left> - switch one node to the left
 - l, <Right> - switch one node to the right
 - j, <Down> - scroll logs down
 - k, <Up> - scroll logs up
 - <C-d> - scroll logs half page down
 - <C-u> - scroll logs half page up
 - <C-f> - scroll logs one page down
 - <C-b> - scroll logs one page up
 - s, S - follow the next/previous service's logs (machined first)
 - <C-z> - pause updates
 - q, <C-c> - quit
"""


@click.command(help=HELP, short_help="Cluster dashboard with node overview, logs and "
                                     "real-time metrics")
@click.option("-d", "--update-interval", "interval", default="3s", show_default=True,
              metavar="DURATION", help="interval between updates")
@click.pass_context
def dashboard(ctx: click.Context, interval: str) -> None:
    from talos.machinery.errors import TalosError
    from talos.talosctl.connect import _global, connection_options, target_nodes

    seconds = parse_duration(interval, "--update-interval")
    if seconds <= 0:
        raise click.BadParameter(f"expected a positive duration, got {interval!r}",
                                 param_hint="--update-interval")
    if _global(ctx).insecure:
        raise click.ClickException("the dashboard needs a configured node (its talosconfig); "
                                   "it does not run in maintenance mode (--insecure)")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.ClickException("the dashboard needs a terminal (stdin and stdout must be "
                                   "a tty)")
    opts = connection_options(ctx)
    nodes = target_nodes(ctx) or [""]
    try:
        code, error = asyncio.run(_run(opts, nodes, seconds))
    except KeyboardInterrupt:
        raise click.exceptions.Exit(130) from None
    except TalosError as e:
        raise click.ClickException(str(e)) from None
    except Exception as e:  # never a traceback on the terminal
        raise click.ClickException(f"dashboard: {_innermost(e)}") from None
    if error:
        raise click.ClickException(f"dashboard: {error}")
    if code:
        raise click.exceptions.Exit(code)


def _innermost(e: BaseException) -> str:
    """The message of the first error inside (task) groups of errors."""
    while isinstance(e, BaseExceptionGroup) and e.exceptions:
        e = e.exceptions[0]
    return str(e) or "internal error"


async def _run(opts: object, nodes: list[str], interval: float) -> tuple[int, str]:
    """Connect, check the endpoint answers, then run the feeds and the app together; the
    feeds end when the app does. Returns the app's exit code and its error line."""
    import grpc
    from google.protobuf import empty_pb2

    from talos.api.machine import machine_pb2_grpc
    from talos.machinery.client.connection import ConnectionOptions, connect
    from talos.talosctl.dashboard.app import DashboardApp
    from talos.talosctl.dashboard.model import Update
    from talos.talosctl.dashboard.sources import RPC_TIMEOUT, Feeds

    assert isinstance(opts, ConnectionOptions)
    conn = await connect(opts)
    try:
        try:
            await machine_pb2_grpc.MachineServiceStub(conn.channel).Version(
                empty_pb2.Empty(), timeout=RPC_TIMEOUT)
        except grpc.RpcError as e:
            raise conn.explain(e) from None
        updates: asyncio.Queue[Update] = asyncio.Queue()
        feeds = Feeds(conn, nodes, interval, updates)
        app = DashboardApp(nodes, feeds, updates)
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(feeds.run())
            try:
                await app.run_async()
            finally:
                running.cancel()
        return app.return_code or 0, app.error
    finally:
        await conn.close()
