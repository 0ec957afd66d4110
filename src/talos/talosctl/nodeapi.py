"""Calling the node API from a talosctl command: one connection, errors explained.

`call(ctx, fn)` connects with the global flags (`-e`, `--talosconfig`, `--context`,
`--insecure`), runs `fn(Session)` on an event loop and turns every failure (RPC error,
TalosError, unreachable endpoint) into one clear `Error:` line: never a traceback.

`Session.md` is the node-targeting metadata for the command's nodes (`-n`, else the
context's nodes). Fan-out replies carry per-node errors in `metadata.error`:
`Replies` splits them out so a command prints what succeeded and fails at the end.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from talos.machinery.errors import TalosError

T = TypeVar("T")

# gRPC's C core logs failed TLS handshakes itself; talosctl explains them in one line
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

#: gRPC status code UNAVAILABLE
_UNAVAILABLE = 14
_ROUTE_HINTS = (("connection refused", "the endpoint could not reach this node's API "
                 "(is the node up? -n takes node addresses as the endpoint reaches them)"),
                ("errors resolving", "the endpoint cannot resolve this node name: use the "
                 "node's IP address with -n"),
                ("lookup", "the endpoint cannot resolve this node name: use the node's IP "
                 "address with -n"),
                ("unavailable: maintenance", "the node is in maintenance mode: use --insecure "
                 "with -e <node> (no -n)"))


class NodeErrors(click.ClickException):
    """Some nodes answered with an error: one line per node."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        from talos.machinery.client.hints import maintenance_node_error

        # a node in maintenance mode reached through an endpoint: say so, not "self signed"
        errors = [(node, (node and maintenance_node_error(node, msg)) or msg)
                  for node, msg in errors]
        lines = [f"{node}: {msg}" if node else msg for node, msg in errors]
        super().__init__("\n".join(lines) if len(lines) == 1
                         else f"{len(lines)} errors occurred:\n" +
                         "\n".join(f"\t* {ln}" for ln in lines))


@dataclass
class Session:
    conn: Any  # talos.machinery.client.connection.Connection
    nodes: list[str]
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def md(self) -> tuple[tuple[str, str], ...]:
        from talos.machinery.client.connection import nodes_metadata
        return nodes_metadata(self.nodes)

    @property
    def endpoint_host(self) -> str:
        return str(self.conn.endpoint).rsplit(":", 1)[0].strip("[]")

    def machine(self) -> Any:
        from talos.api.machine import machine_pb2_grpc
        return machine_pb2_grpc.MachineServiceStub(self.conn.channel)

    def node_of(self, msg: Any) -> str:
        """The node a message came from (the endpoint's own node when unnamed)."""
        md = getattr(msg, "metadata", None)
        host = md.hostname if md is not None else ""
        return host or (self.nodes[0] if len(self.nodes) == 1 else self.endpoint_host)

    def ok(self, messages: Iterable[T]) -> list[T]:
        """Messages without a per-node error; the errors are kept for `raise_errors()`.

        Filtering the same reply twice records each node's error once."""
        out = []
        for msg in messages:
            md = getattr(msg, "metadata", None)
            if md is not None and md.error:
                error = md.error
                if error == "Method not found!":  # a service the node does not serve
                    error = "this API is not implemented by the node (Method not found)"
                # a hint about reaching the node only where the node was not reached (the
                # status apid stamps is UNAVAILABLE; none from an older proxy); a node's own
                # error that says "lookup" (an image pull's DNS failure) is not one
                if md.status.code in (0, _UNAVAILABLE):
                    low = error.lower()
                    for needle, hint in _ROUTE_HINTS:
                        if needle in low:
                            error = f"{error} [{hint}]"
                            break
                if (self.node_of(msg), error) not in self.errors:
                    self.errors.append((self.node_of(msg), error))
                continue
            out.append(msg)
        return out

    def raise_errors(self) -> None:
        if self.errors:
            raise NodeErrors(self.errors)


def target(ctx: click.Context) -> list[str]:
    from talos.talosctl.connect import target_nodes
    return target_nodes(ctx)


def nodes_given(ctx: click.Context) -> list[str]:
    """The `-n` nodes given on the command line (not the context's defaults)."""
    from talos.talosctl.main import GlobalOptions
    g = ctx.find_object(GlobalOptions)
    return list(g.nodes) if g is not None else []


def require_explicit_nodes(ctx: click.Context, action: str) -> list[str]:
    """A change aimed at several nodes needs them named with -n (never the context's list)."""
    given = nodes_given(ctx)
    if given:
        return given
    nodes = target(ctx)
    if len(nodes) > 1:
        raise click.ClickException(
            f"refusing to {action} {len(nodes)} nodes taken from the talosconfig context "
            f"({', '.join(nodes)}): name the nodes on the command line with -n/--nodes")
    return nodes


def call(ctx: click.Context, fn: Callable[[Session], Awaitable[T]], *,
         insecure: bool = False, nodes: list[str] | None = None,
         cert_fingerprints: Sequence[str] = ()) -> T:
    """Run `fn` with a Session on a fresh event loop; every error is one clear line.

    Maintenance mode (`--insecure`) with `-n`: `fn` runs once per node, each reached
    directly (as Talos; no endpoint, no talosconfig), and the last result is returned; a
    node that fails does not stop the others. `cert_fingerprints` (maintenance mode): the
    server certificate must match one."""
    import grpc

    from talos.machinery.client.connection import connect
    from talos.talosctl.connect import connection_options, direct_nodes

    direct = direct_nodes(ctx, insecure=insecure)
    if direct:
        plan = [connection_options(ctx, insecure=True, cert_fingerprints=cert_fingerprints,
                                   endpoint=node) for node in direct]
        targets: list[str] = []
    else:
        plan = [connection_options(ctx, insecure=insecure,
                                   cert_fingerprints=cert_fingerprints)]
        targets = target(ctx) if nodes is None else nodes
        if plan[0].insecure:
            targets = []  # maintenance mode talks to the endpoint node only

    async def one(opts: Any) -> T:
        conn = await connect(opts)
        try:
            return await fn(Session(conn, targets))
        except grpc.RpcError as e:
            raise conn.explain(e) from None
        finally:
            await conn.close()

    async def main() -> T:
        if len(plan) == 1:
            return await one(plan[0])
        results: list[T] = []
        failed: list[tuple[str, str]] = []
        for opts in plan:  # each message names the node's address already
            try:
                results.append(await one(opts))
            except TalosError as e:
                failed.append(("", str(e)))
            except click.ClickException as e:
                failed.append(("", e.message))
        if failed:
            raise NodeErrors(failed)
        return results[-1]

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        # Ctrl-C ends a follow (-f, events, -w) quietly, with the shell's interrupt status
        raise click.exceptions.Exit(130) from None
    except TalosError as e:
        raise click.ClickException(str(e)) from None


def rpc_message(e: BaseException) -> str:
    """A grpc error as a Talos-like message (code and description)."""
    code = getattr(e, "code", None)
    details = getattr(e, "details", None)
    if callable(code) and callable(details):
        c = code()
        name = c.name if c is not None else "UNKNOWN"
        return f"rpc error: code = {name.title().replace('_', '')} desc = {details()}"
    return str(e)


_CELL_ESCAPES = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Go's tabwriter with padding 3 (as talosctl prints tables).

    Line breaks and tabs inside a cell (a process started with a multi-line
    `python -c` script, say) are escaped so that one row stays one line.
    """
    if not rows:
        return ""
    rows = [[str(c).translate(_CELL_ESCAPES) for c in r] for r in rows]
    n = max(len(r) for r in rows)
    widths = [max((len(r[i]) for r in rows if i < len(r)), default=0) for i in range(n)]
    lines = []
    for r in rows:
        cells = [str(c).ljust(widths[i] + 3) for i, c in enumerate(r[:-1])]
        lines.append("".join(cells) + str(r[-1]) if r else "")
    return "\n".join(lines) + "\n"


def echo_table(rows: Sequence[Sequence[str]]) -> None:
    click.echo(format_table(rows), nl=False)


def humanize_bytes(n: float) -> str:
    """Go humanize.Bytes (SI units): 1.2 MB, 512 B."""
    if n < 10:
        return f"{int(n)} B"
    units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
    e = 0
    v = float(n)
    while v >= 1000 and e < len(units) - 1:
        v /= 1000
        e += 1
    return f"{v:.0f} {units[e]}" if v >= 10 else f"{v:.1f} {units[e]}"


async def unimplemented_aware(s: Session, coro: Awaitable[T], what: str, hint: str) -> T:
    """Await an RPC; UNIMPLEMENTED on the node becomes one clear line naming `what`."""
    import grpc
    try:
        return await coro
    except grpc.RpcError as e:
        if e.code() == grpc.StatusCode.UNIMPLEMENTED:
            raise click.ClickException(f"{what}: {hint} (node API at {s.conn.endpoint} "
                                       "answered Unimplemented)") from None
        raise
