"""`talosctl completion bash|zsh|fish`: the shell completion script (click's completion).

Load it with `source <(talosctl completion bash)`; the script calls talosctl back with
`_TALOSCTL_COMPLETE=<shell>_complete` to complete commands, flags and choices.
"""

from __future__ import annotations

import click


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Output shell completion code for the specified shell (bash, zsh or fish)."""
    from click.shell_completion import get_completion_class

    from talos.talosctl.main import cli
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - the choices are all supported by click
        raise click.ClickException(f"no completion for shell {shell!r}")
    click.echo(cls(cli, {}, "talosctl", "_TALOSCTL_COMPLETE").source())
