"""`talosctl version [--client] [--short]`: client and server versions (a Server: block per
node, with NODE: naming it)."""

from __future__ import annotations

from typing import Any

import click

from talos.machinery.version import BuildInfo, build_info
from talos.talosctl.timefmt import DURATION


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


def format_server(msg: Any, short: bool, node: str) -> str:
    """One node's block, as Talos prints it (NODE: first when the node is known)."""
    v = msg.version
    lines = [f"\tNODE:        {node}"] if node else []
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


@click.command()
@click.option("--client", is_flag=True, help="print client version only")
@click.option("--short", is_flag=True, help="print the short version")
@click.option("-i", "--insecure", is_flag=True, help="use Talos maintenance mode API")
@click.option("--timeout", type=DURATION, default="30s", show_default=True, hidden=True,
              help="how long to wait for the nodes (a duration: 30s, 1m)")
@click.pass_context
def version(ctx: click.Context, client: bool, short: bool, insecure: bool,
            timeout: float) -> None:
    """Prints the version."""
    click.echo("Client:")
    click.echo(format_version(build_info(), short))
    if client:
        return
    from talos.talosctl.nodeapi import Session, call

    async def run(s: Session) -> None:
        from google.protobuf import empty_pb2
        reply = await s.machine().Version(empty_pb2.Empty(), metadata=s.md, timeout=timeout)
        click.echo("Server:")
        for msg in s.ok(reply.messages):
            # NODE: only when the reply names its node (a fan-out through -n / nodes)
            click.echo(format_server(msg, short, msg.metadata.hostname))
        if s.errors:
            from talos.talosctl.nodeapi import NodeErrors
            raise click.ClickException("error getting version:\n"
                                       + NodeErrors(s.errors).message)

    call(ctx, run, insecure=insecure)
