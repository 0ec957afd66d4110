"""Global flags anywhere on the command line, as cobra's persistent flags allow.

Talos users write `talosctl apply-config --insecure --nodes 10.5.0.2 -f cp.yaml` and
`talosctl get members -n 10.5.0.2`: the root's flags (`-n/--nodes`, `-e/--endpoints`,
`--talosconfig`, `--context`, `--cluster`, `-i/--insecure`) after the subcommand. click only
reads a group's options before the subcommand, so `hoist()` moves them there first. A
subcommand's own option of the same name wins (`get -i` stays `get`'s), values of the
subcommand's options are never taken for flags, and nothing after `--` moves.
"""

from __future__ import annotations

from collections.abc import Sequence

import click


def _names(params: Sequence[click.Parameter]) -> dict[str, bool]:
    """Option string -> whether it takes a value."""
    out: dict[str, bool] = {}
    for p in params:
        if isinstance(p, click.Option):
            for name in (*p.opts, *p.secondary_opts):
                out[name] = not (p.is_flag or p.count)
    return out


def _option_of(token: str, names: dict[str, bool]) -> tuple[str, bool] | None:
    """(option, value attached) when `token` is one of `names`: `--nodes`, `--nodes=a`,
    `-n`, `-na` (a short option with its value attached)."""
    if token in names:
        return token, False
    if token.startswith("--") and "=" in token:
        name = token.split("=", 1)[0]
        return (name, True) if name in names else None
    if len(token) > 2 and token[0] == "-" and token[1] != "-" and token[:2] in names \
            and names[token[:2]]:
        return token[:2], True
    return None


def hoist(argv: list[str], root: click.Group) -> list[str]:
    globals_ = _names(root.params)
    ctx = click.Context(root, info_name="talosctl", resilient_parsing=True)
    head: list[str] = []
    i = 0
    # the root's own options (already where click reads them)
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        found = _option_of(argv[i], globals_)
        head.append(argv[i])
        if found is not None and globals_[found[0]] and not found[1] and i + 1 < len(argv):
            head.append(argv[i + 1])
            i += 1
        i += 1
    # the command path: groups down to the command that runs
    path: list[str] = []
    local: dict[str, bool] = {}
    command: click.Command | None = root
    while i < len(argv) and isinstance(command, click.Group):
        try:
            sub = command.get_command(ctx, argv[i])
        except Exception:  # a command module that fails to import: let click report it
            sub = None
        if sub is None:
            break
        path.append(argv[i])
        local.update(_names(sub.params))
        command = sub
        i += 1
    if not path:
        return argv
    hoisted: list[str] = []
    rest: list[str] = []
    while i < len(argv):
        token = argv[i]
        if token == "--":
            rest.extend(argv[i:])
            break
        own = _option_of(token, local)
        if own is not None:
            rest.append(token)
            if local[own[0]] and not own[1] and i + 1 < len(argv):
                rest.append(argv[i + 1])
                i += 1
        elif (found := _option_of(token, globals_)) is not None:
            hoisted.append(token)
            if globals_[found[0]] and not found[1] and i + 1 < len(argv):
                hoisted.append(argv[i + 1])
                i += 1
        else:
            rest.append(token)
        i += 1
    return [*head, *hoisted, *path, *rest]
