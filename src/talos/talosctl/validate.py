"""`talosctl validate --config F --mode M [--strict]`."""

from __future__ import annotations

from pathlib import Path

import click

from talos.machinery.config import MODES, load_config
from talos.machinery.errors import TalosError


@click.command()
@click.option("-c", "--config", "config_path", required=True, metavar="PATH",
              help="the path of the config file")
@click.option("-m", "--mode", required=True, type=click.Choice(MODES),
              help="the mode to validate the config for (valid values are metal, cloud, "
                   "and container)")
@click.option("--strict", is_flag=True, help="treat validation warnings as errors")
def validate(config_path: str, mode: str, strict: bool) -> None:
    """Validate config."""
    try:
        data = Path(config_path).read_bytes()
    except OSError as e:
        raise click.ClickException(f"failed to read config {config_path}: "
                                   f"{e.strerror or e}") from None
    try:
        warnings = load_config(data, source=config_path).validate(mode, strict=strict)
    except TalosError as e:
        raise click.ClickException(str(e)) from None
    for warning in warnings:
        click.echo(f"WARNING: {warning}", err=True)
    click.echo(f"{config_path} is valid for {mode} mode")
