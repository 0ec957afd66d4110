"""`talosctl version`: client and server versions."""

from __future__ import annotations

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


@click.command()
@click.option("--client", is_flag=True, help="print client version only")
@click.option("--short", is_flag=True, help="print the short version")
@click.option("-i", "--insecure", is_flag=True, help="use Talos maintenance mode API")
def version(client: bool, short: bool, insecure: bool) -> None:
    """Prints the version."""
    click.echo("Client:")
    click.echo(format_version(build_info(), short))
    if client:
        return
    # Server side arrives with the client library (issues 8/9).
    raise click.ClickException(
        "server version is not available yet: the node API client is not implemented "
        "(use --client)")
