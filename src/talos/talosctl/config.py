"""`talosctl config`: manage the client configuration file (talosconfig)."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

import click

from talos.machinery import goyaml, role
from talos.machinery.client.talosconfig import Context, Talosconfig, resolve_path
from talos.machinery.pki.certificate import encode_base64
from talos.talosctl.output import clear_errors


def _global(ctx: click.Context) -> tuple[str | None, str | None]:
    """(--talosconfig, --context) from the root command, if it ran."""
    from talos.talosctl.main import GlobalOptions

    opts = ctx.find_object(GlobalOptions)
    if opts is None:
        return None, None
    return opts.talosconfig, opts.context


def _open(ctx: click.Context) -> tuple[Talosconfig, Path]:
    explicit, _ = _global(ctx)
    path = resolve_path(explicit)
    return Talosconfig.load(path), path


def _context_name(ctx: click.Context, cfg: Talosconfig) -> str:
    """The context commands act on: `--context` if given, else the current one."""
    _, override = _global(ctx)
    name = override or cfg.context
    if not name:
        raise click.ClickException("no context is set")
    if name not in cfg.contexts:
        raise click.ClickException(f"context {name!r} is not defined")
    return name


def _save(cfg: Talosconfig, path: Path) -> None:
    try:
        cfg.save(path)
    except OSError as e:
        raise click.ClickException(f"error writing config: {e.strerror}: {str(path)!r}"
                                   ) from None


class _AliasedGroup(click.Group):
    """Accepts Talos's aliases (`endpoints`, `nodes`, `use-context`, `get-contexts`)."""

    ALIASES = {"endpoints": "endpoint", "nodes": "node", "use-context": "context",
               "get-contexts": "contexts"}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.ALIASES.get(cmd_name, cmd_name))


@click.group("config", cls=_AliasedGroup)
def config() -> None:
    """Manage the client configuration file (talosconfig)."""


def _clean(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for v in values if v.strip())


@config.command("endpoint")
@click.argument("endpoints", nargs=-1, required=True, metavar="<endpoint>...")
@click.pass_context
@clear_errors
def config_endpoint(ctx: click.Context, endpoints: tuple[str, ...]) -> None:
    """Set the endpoint(s) for the current context."""
    _set_list(ctx, "endpoints", endpoints)


def _set_list(ctx: click.Context, field: Literal["endpoints", "nodes"],
              values: tuple[str, ...]) -> None:
    """Set `endpoints` or `nodes` of the context the command acts on."""
    cfg, path = _open(ctx)
    name = _context_name(ctx, cfg)
    current = cfg.contexts[name]
    updated = replace(current, endpoints=_clean(values)) if field == "endpoints" \
        else replace(current, nodes=_clean(values))
    _save(cfg.with_context(name, updated), path)


@config.command("node")
@click.argument("nodes", nargs=-1, metavar="<endpoint>...")
@click.pass_context
@clear_errors
def config_node(ctx: click.Context, nodes: tuple[str, ...]) -> None:
    """Set the node(s) for the current context."""
    _set_list(ctx, "nodes", nodes)


@config.command("context")
@click.argument("name", metavar="<context>")
@click.pass_context
@clear_errors
def config_context(ctx: click.Context, name: str) -> None:
    """Set the current context."""
    cfg, path = _open(ctx)
    if name not in cfg.contexts:
        raise click.ClickException(f"context {name!r} is not defined")
    _save(cfg.use(name), path)


@config.command("contexts")
@click.pass_context
@clear_errors
def config_contexts(ctx: click.Context) -> None:
    """List defined contexts."""
    cfg, _ = _open(ctx)
    rows: list[tuple[str, ...]] = [("CURRENT", "NAME", "ENDPOINTS", "NODES")]
    for name in sorted(cfg.contexts):
        c = cfg.contexts[name]
        nodes = ",".join(c.nodes[:3]) + ("..." if len(c.nodes) > 3 else "")
        rows.append(("*" if name == cfg.context else "", name, ",".join(c.endpoints), nodes))
    click.echo(format_table(rows), nl=False)


def format_table(rows: list[tuple[str, ...]]) -> str:
    """Go's tabwriter with padding 3 (as talosctl prints tables): trailing cell unpadded."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [cell.ljust(widths[i] + 3) for i, cell in enumerate(r[:-1])]
        lines.append("".join(cells) + r[-1])
    return "\n".join(lines) + "\n"


@config.command("merge")
@click.argument("source", metavar="<from>")
@click.pass_context
@clear_errors
def config_merge(ctx: click.Context, source: str) -> None:
    """Merge additional contexts from another client configuration file.

    Contexts with the same name are renamed while merging configs.
    """
    cfg, path = _open(ctx)
    other = Talosconfig.load(source, missing_ok=False)
    merged, renames = cfg.merge(other)
    for old, new in renames:
        click.echo(f'renamed talosconfig context "{old}" -> "{new}"', err=True)
    _save(merged, path)


@config.command("add")
@click.argument("name", metavar="<context>")
@click.option("--ca", "ca_path", default="", help="the path to the CA certificate")
@click.option("--crt", "crt_path", default="", help="the path to the certificate")
@click.option("--key", "key_path", default="", help="the path to the key")
@click.pass_context
@clear_errors
def config_add(ctx: click.Context, name: str, ca_path: str, crt_path: str,
               key_path: str) -> None:
    """Add a new context."""
    cfg, path = _open(ctx)
    ca = crt = key = ""
    if ca_path:
        ca = encode_base64(_read(ca_path, "CA"))
    if bool(crt_path) != bool(key_path):
        raise click.ClickException(
            "if either the 'crt' or 'key' flag is specified, both are required")
    if crt_path:
        crt = encode_base64(_read(crt_path, "certificate"))
        key = encode_base64(_read(key_path, "key"))
    _save(cfg.with_context(name, Context(ca=ca, crt=crt, key=key)), path)


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise click.ClickException(f"error reading {what}: {e.strerror}: {path!r}") from None


@config.command("remove")
@click.argument("pattern", metavar="<context>")
@click.option("-y", "--noconfirm", is_flag=True, help="do not ask for confirmation")
@click.option("--dry-run", is_flag=True, help="dry run")
@click.pass_context
@clear_errors
def config_remove(ctx: click.Context, pattern: str, noconfirm: bool, dry_run: bool) -> None:
    """Remove contexts (the name may be a glob pattern)."""
    if not pattern:
        raise click.ClickException("no context specified")
    cfg, path = _open(ctx)
    if not cfg.contexts:
        raise click.ClickException("no contexts defined")
    matches = sorted(n for n in cfg.contexts if fnmatch.fnmatchcase(n, pattern))
    if not matches:
        raise click.ClickException(f"no contexts matched {pattern!r}")
    changed = False
    for name in matches:
        if name == cfg.context:
            click.echo(f'skipping removal of current context "{name}", please change it to '
                       "another before removing", err=True)
            continue
        if noconfirm:
            click.echo(f'removing context "{name}"', err=True)
        elif not click.confirm(f'remove context "{name}"?', default=False, err=True):
            continue
        changed = True
        cfg = cfg.without_context(name)
    if changed and not dry_run:
        _save(cfg, path)


@config.command("new")
@click.argument("path", required=False, default="talosconfig", metavar="[<path>]")
@click.option("--roles", "roles", multiple=True, default=(role.ADMIN,), show_default=True,
              help="roles")
@click.option("--crt-ttl", "crt_ttl", default="87600h", show_default=True,
              help="certificate TTL")
@click.pass_context
@clear_errors
def config_new(ctx: click.Context, path: str, roles: tuple[str, ...], crt_ttl: str) -> None:
    """Generate a new client configuration file."""
    from talos.talosctl.config_new import generate_talosconfig

    generate_talosconfig(ctx, path, roles, crt_ttl)


@config.command("info")
@click.option("-o", "--output", "fmt", default="text", show_default=True,
              help="output format (json|yaml|text). Default text.")
@click.pass_context
@clear_errors
def config_info(ctx: click.Context, fmt: str) -> None:
    """Show information about the current context."""
    cfg, _ = _open(ctx)
    name = _context_name(ctx, cfg)
    info = context_info(cfg, name, dt.datetime.now(dt.UTC))
    if fmt == "text":
        lines = [
            f"Current context:     {info.context}",
            "Nodes:               " + (", ".join(info.nodes) or "not defined"),
            "Endpoints:           " + (", ".join(info.endpoints) or "not defined"),
        ]
        if info.roles:
            lines.append("Roles:               " + ", ".join(info.roles))
        if info.certTTL:
            lines.append(f"Certificate expires: {info.certTTL} ({info.certNotAfter})")
        click.echo("\n".join(lines))
    elif fmt == "json":
        click.echo(json.dumps(asdict(info), indent=2))
    elif fmt == "yaml":
        click.echo(goyaml.dump(asdict(info)), nl=False)
    else:
        raise click.ClickException(f"unknown output format: {fmt!r}")


@dataclass(frozen=True)
class ConfigInfo:
    """What `config info` shows (field names are Talos's JSON/YAML keys)."""

    context: str
    nodes: list[str]
    endpoints: list[str]
    roles: list[str]
    certTTL: str
    certNotAfter: str


def context_info(cfg: Talosconfig, name: str, now: dt.datetime) -> ConfigInfo:
    from talos.machinery.pki import load_certificate, organizations_of

    c = cfg.contexts[name]
    roles: list[str] = []
    ttl = not_after = ""
    if c.crt:
        cert = load_certificate(c.client.crt, what=f"contexts.{name}.crt")
        roles = organizations_of(cert)
        expiry = cert.not_valid_after_utc
        ttl = relative_time(expiry, now)
        not_after = expiry.strftime("%Y-%m-%d")
    return ConfigInfo(context=cfg.context, nodes=list(c.nodes), endpoints=list(c.endpoints),
                      roles=roles, certTTL=ttl, certNotAfter=not_after)


def relative_time(then: dt.datetime, now: dt.datetime) -> str:
    """`1 year from now`, `3 days ago` (go-humanize RelTime, as `config info` prints)."""
    from talos.talosctl.timefmt import humanize_time
    return humanize_time(then.timestamp(), now.timestamp())
