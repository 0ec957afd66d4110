"""`talosctl edit|patch <type> [<id>]`: the resource type as Talos spells it.

Talos takes the type as `get` does: `machineconfig`, `machineconfigs`, `mc` or the full
`MachineConfigs.config.talos.dev` (any case), and an optional id (`v1alpha1`, the only
machine config). The machine config is the only resource a user changes this way; any other
type is refused with one clear line instead of click's "No such command".
"""

from __future__ import annotations

from typing import Any

import click

MACHINECONFIG = "machineconfig"
MC_ALIASES = frozenset({"machineconfig", "machineconfigs", "mc",
                        "machineconfigs.config.talos.dev"})
MC_ID = "v1alpha1"
MC_NAMESPACE = "config"


class ResourceTypeGroup(click.Group):
    """A group whose subcommand is a resource type, with Talos's aliases for it."""

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and not args[0].startswith("-"):
            if args[0].lower() in MC_ALIASES:
                args = [MACHINECONFIG, *args[1:]]
            else:
                raise click.UsageError(
                    f"{args[0]!r}: only the machine config can be changed with "
                    f"'{ctx.command_path}' (type machineconfig, alias mc); other resources "
                    "are read-only: see 'talosctl get'", ctx)
        return super().resolve_command(ctx, args)


def _check_id(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    if value is not None and value != MC_ID:
        raise click.BadParameter(f"{value!r}: the machine config has one resource, "
                                 f"{MC_ID!r}")
    return MC_ID


def id_argument(fn: Any) -> Any:
    """The optional `[<id>]` after the type (only `v1alpha1` exists)."""
    return click.argument("resource_id", metavar="[<id>]", required=False,
                          callback=_check_id, expose_value=False)(fn)


def _check_namespace(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    if value and value != MC_NAMESPACE:
        raise click.BadParameter(f"{value!r}: the machine config lives in namespace "
                                 f"{MC_NAMESPACE!r}")
    return MC_NAMESPACE


def namespace_option(fn: Any) -> Any:
    """`--namespace` (Talos's; the machine config's is `config`, the default)."""
    return click.option("--namespace", metavar="NAMESPACE", callback=_check_namespace,
                        expose_value=False, help="resource namespace (default is to use "
                        "default namespace per resource)")(fn)
