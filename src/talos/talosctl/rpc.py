"""Running one MachineService call from a click command: connect through the talosconfig,
target nodes, turn failures into one clear line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

T = TypeVar("T")


def run_machine(ctx: click.Context, call: Callable[[Any, Any], Awaitable[T]], *,
                single_node: bool = False) -> T:
    """`call(stub, metadata)` against the MachineService, with node targeting: fan-out
    (`nodes`) by default, one node (`node`) when `single_node`."""
    import grpc

    from talos.api.machine import machine_pb2_grpc
    from talos.machinery.client.connection import connect, node_metadata, nodes_metadata
    from talos.machinery.errors import TalosError
    from talos.talosctl.connect import connection_options, direct_nodes, target_nodes

    direct = direct_nodes(ctx)
    nodes = target_nodes(ctx)
    if single_node and len(nodes) > 1:
        raise click.ClickException(f"this command targets one node; got {len(nodes)}: "
                                   + ", ".join(nodes))
    if len(direct) > 1:
        raise click.ClickException(f"in maintenance mode (--insecure) this command talks to "
                                   f"one node at a time; got {len(direct)}: "
                                   + ", ".join(direct))
    # maintenance mode with -n: the node itself, as Talos (no endpoint, no talosconfig)
    opts = connection_options(ctx, endpoint=direct[0] if direct else None)
    if direct:
        nodes = []
    md = (node_metadata(nodes[0]) if nodes else ()) if single_node else nodes_metadata(nodes)

    async def go() -> T:
        conn = await connect(opts)
        try:
            stub = machine_pb2_grpc.MachineServiceStub(conn.channel)
            return await call(stub, md)
        except grpc.RpcError as e:
            raise click.ClickException(str(conn.explain(e))) from None
        finally:
            await conn.close()

    try:
        return asyncio.run(go())
    except TalosError as e:
        raise click.ClickException(str(e)) from None


def check_errors(messages: Any, what: str) -> None:
    """Per-node errors of a fan-out reply: print them, fail at the end."""
    from talos.machinery.client.hints import maintenance_node_error
    failed = [f"{m.metadata.hostname}: "
              f"{maintenance_node_error(m.metadata.hostname, m.metadata.error) or m.metadata.error}"
              for m in messages if m.metadata.error]
    if failed:
        raise click.ClickException("\n".join([f"error {what}:", *failed]))
