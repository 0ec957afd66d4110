"""`talosctl version`: client and server versions (the Server: block per node)."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from talos.machinery.version import BuildInfo, build_info


def format_version(info: BuildInfo, short: bool) -> str:
    if short:
        return f"\tTalos {info.tag}"
    return "\n".join([
        f"\tTag:         {info.tag}",
        f"\tSHA:         {info.sha}",
        f"\tBuilt:       {info.built}",
        f"\tGo version:  {info.python_version}",
        f"\tOS/Arch:     {info.os}/{info.arch}",
    ])


def format_server(msg: Any, short: bool, show_node: bool) -> str:
    """One node's block, as Talos prints it (NODE: only when the reply names a node)."""
    v = msg.version
    lines = []
    if show_node and not short:
        lines.append(f"\tNODE:        {msg.metadata.hostname}")
    if short:
        lines.append(f"\tTalos {v.tag}")
        return "\n".join(lines)
    lines += [
        f"\tTag:         {v.tag}",
        f"\tSHA:         {v.sha}",
        f"\tBuilt:       {v.built}",
        f"\tGo version:  {v.go_version}",
        f"\tOS/Arch:     {v.os}/{v.arch}",
    ]
    features = ["RBAC"] if msg.HasField("features") and msg.features.rbac else []
    lines.append(f"\tEnabled:     {', '.join(features)}")
    return "\n".join(lines)


async def _server_versions(opts: Any, nodes: list[str], rpc_timeout: float) -> Any:
    import grpc
    from google.protobuf import empty_pb2

    from talos.api.machine import machine_pb2_grpc
    from talos.machinery.client.connection import connect, nodes_metadata

    conn = await connect(opts)
    try:
        stub = machine_pb2_grpc.MachineServiceStub(conn.channel)  # type: ignore[no-untyped-call]
        return await stub.Version(empty_pb2.Empty(), metadata=nodes_metadata(nodes),
                                  timeout=rpc_timeout)
    except grpc.RpcError as e:
        raise click.ClickException(str(conn.explain(e))) from None
    finally:
        await conn.close()


@click.command()
@click.option("--client", is_flag=True, help="print client version only")
@click.option("--short", is_flag=True, help="print the short version")
@click.option("-i", "--insecure", is_flag=True, help="use Talos maintenance mode API")
@click.option("--timeout", type=float, default=30.0, show_default=True, hidden=True,
              help="seconds to wait for the nodes")
@click.pass_context
def version(ctx: click.Context, client: bool, short: bool, insecure: bool,
            timeout: float) -> None:
    """Prints the version."""
    click.echo("Client:")
    click.echo(format_version(build_info(), short))
    if client:
        return
    from talos.machinery.errors import TalosError
    from talos.talosctl.connect import connection_options, target_nodes

    opts = connection_options(ctx, insecure=insecure)
    nodes = target_nodes(ctx)
    try:
        reply = asyncio.run(_server_versions(opts, nodes, timeout))
    except TalosError as e:
        raise click.ClickException(str(e)) from None
    click.echo("Server:")
    failed = []
    for msg in reply.messages:
        if msg.metadata.error:
            failed.append(f"{msg.metadata.hostname}: {msg.metadata.error}")
            continue
        click.echo(format_server(msg, short, show_node=bool(msg.metadata.hostname)))
    if failed:
        raise click.ClickException("\n".join(["error getting version:", *failed]))
