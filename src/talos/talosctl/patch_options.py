"""The `--config-patch*` options shared by `gen config` and `cluster create`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def config_patch_options(f: F) -> F:
    """Add `--config-patch`, `--config-patch-control-plane` and `--config-patch-worker`
    (each repeatable; parameters `config_patch`, `config_patch_control_plane`,
    `config_patch_worker`) to a command, in that order in its help."""
    f = click.option("--config-patch-worker", multiple=True,
                     help="patch generated machineconfigs (applied to 'worker' type)")(f)
    f = click.option("--config-patch-control-plane", multiple=True,
                     help="patch generated machineconfigs "
                          "(applied to 'init' and 'controlplane' types)")(f)
    f = click.option("--config-patch", multiple=True,
                     help="patch generated machineconfigs (applied to all node types), use "
                          "@file to read a patch from file")(f)
    return f
