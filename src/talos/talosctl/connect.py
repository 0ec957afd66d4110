"""How a talosctl command reaches nodes: talosconfig context + global flags -> connection.

`connection_options()` resolves `--talosconfig/--context/-e/--insecure`; `target_nodes()` is
`-n` or else the context's nodes (empty: the endpoint node itself). RPC failures become
click errors with the endpoint and the likely cause (see
`talos.machinery.client.connection.explain`), never tracebacks.

Maintenance mode (`--insecure`) with `-n`: as Talos (v1.13.9 dials the nodes as its
endpoints; v1.14's ClientFactory one client per node), talosctl talks to each named node
itself (its :50000 unless the node names a port), through no endpoint and without reading
any talosconfig (`direct_nodes()`; `connection_options(endpoint=node)`). Without `-n`,
`--insecure` uses `-e` or the context's endpoints (kept from this talosctl's earlier
releases).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from talos.machinery.client.connection import ConnectionOptions
from talos.machinery.client.talosconfig import Context, Talosconfig, resolve_path
from talos.machinery.errors import InvalidArgument, TalosError
from talos.machinery.pki.fingerprint import parse_fingerprint

if TYPE_CHECKING:
    from talos.talosctl.main import GlobalOptions


def _global(ctx: click.Context) -> GlobalOptions:
    from talos.talosctl.main import GlobalOptions

    return ctx.find_object(GlobalOptions) or GlobalOptions()


def current_context(ctx: click.Context, *, insecure: bool = False) -> Context:
    g = _global(ctx)
    insecure = insecure or g.insecure
    path = resolve_path(g.talosconfig)
    if not path.exists() and insecure and not g.endpoints:
        raise click.ClickException(
            "--insecure (a node in maintenance mode) needs the node: -n <node address> "
            f"(talosctl talks to it directly; no talosconfig needed, {str(path)!r} does "
            "not exist)")
    if not path.exists() and not (insecure or g.endpoints):
        raise click.ClickException(
            f"talosconfig {str(path)!r} does not exist: pass --talosconfig <file> (or set "
            "TALOSCONFIG) to the talosconfig generated with the cluster (talosctl gen "
            "config), or --insecure -n <node> for a node in maintenance mode")
    try:
        cfg = Talosconfig.load(path)
        if not cfg.contexts and (insecure or g.endpoints):
            return Context()
        return cfg.get(g.context)
    except TalosError as e:
        raise click.ClickException(f"talosconfig {str(path)!r}: {e}") from None


def direct_nodes(ctx: click.Context, *, insecure: bool = False) -> list[str]:
    """The `-n` nodes talosctl reaches directly: maintenance mode (`--insecure`) with `-n`
    (as Talos); empty otherwise (through an endpoint, or `--insecure` without `-n`)."""
    g = _global(ctx)
    return list(g.nodes) if (insecure or g.insecure) else []


def connection_options(ctx: click.Context, *, insecure: bool = False,
                       cert_fingerprints: Sequence[str] = (),
                       endpoint: str | None = None) -> ConnectionOptions:
    """Options for the endpoint(s); in maintenance mode with `endpoint` (a node from
    `direct_nodes()`), for that node itself, no talosconfig read."""
    g = _global(ctx)
    insecure = insecure or g.insecure
    try:
        if insecure and endpoint is not None:
            opts = ConnectionOptions((endpoint,), insecure=True)
        else:
            opts = ConnectionOptions.from_context(current_context(ctx, insecure=insecure),
                                                  endpoints=g.endpoints, insecure=insecure)
        if cert_fingerprints:
            if not opts.insecure:
                raise InvalidArgument("--cert-fingerprint checks a maintenance-mode node's "
                                      "certificate: use it with --insecure")
            opts = replace(opts, cert_fingerprints=tuple(
                parse_fingerprint(f) for f in cert_fingerprints))
        opts.check()
    except TalosError as e:
        raise click.ClickException(str(e)) from None
    return opts


def target_nodes(ctx: click.Context) -> list[str]:
    g = _global(ctx)
    if g.nodes:
        return list(g.nodes)
    if g.insecure:
        return []
    return list(current_context(ctx).nodes)
