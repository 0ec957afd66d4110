"""`talosctl machineconfig patch <file> --patch @p.yaml [-o out]`."""

from __future__ import annotations

from pathlib import Path

import click

from talos.machinery.atomic import write_atomic
from talos.machinery.config.patch import apply_patches, load_patch_arg, patch_source
from talos.machinery.errors import TalosError


@click.group(name="machineconfig")
def machineconfig() -> None:
    """Machine config related commands."""


@machineconfig.command()
@click.argument("config_path", metavar="<machineconfig-file>")
@click.option("-p", "--patch", "patches", multiple=True, metavar="PATCH",
              help="patch generated machineconfigs (applied to all node types), use @file to "
                   "read a patch from file")
@click.option("-o", "--output", metavar="PATH",
              help="output destination. if not specified, output will be printed to stdout")
def patch(config_path: str, patches: tuple[str, ...], output: str | None) -> None:
    """Patch a machine config."""
    try:
        data = Path(config_path).read_bytes()
    except OSError as e:
        raise click.ClickException(f"failed to read config {config_path}: "
                                   f"{e.strerror or e}") from None
    try:
        texts = [load_patch_arg(arg) for arg in patches]
        result = apply_patches(data, texts, sources=[patch_source(a) for a in patches],
                               source=config_path)
    except TalosError as e:
        raise click.ClickException(str(e)) from None
    if output is None:
        click.echo(result, nl=False)
        return
    try:
        write_atomic(output, result, mode=0o600)
    except OSError as e:
        raise click.ClickException(f"failed to write {output}: {e.strerror or e}") from None
