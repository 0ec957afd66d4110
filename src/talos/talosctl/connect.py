"""How a talosctl command reaches nodes: talosconfig context + global flags -> connection.

`connection_options()` resolves `--talosconfig/--context/-e/--insecure`; `target_nodes()` is
`-n` or else the context's nodes (empty: the endpoint node itself). RPC failures become
click errors with the endpoint and the likely cause (see
`talos.machinery.client.connection.explain`), never tracebacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import click

from talos.machinery.client.connection import ConnectionOptions
from talos.machinery.client.talosconfig import Context, Talosconfig, resolve_path
from talos.machinery.errors import InvalidArgument, TalosError
from talos.machinery.pki.fingerprint import parse_fingerprint


def _global(ctx: click.Context):  # type: ignore[no-untyped-def]
    from talos.talosctl.main import GlobalOptions
    return ctx.find_object(GlobalOptions) or GlobalOptions()


def current_context(ctx: click.Context) -> Context:
    g = _global(ctx)
    path = resolve_path(g.talosconfig)
    if not path.exists() and not (g.insecure or g.endpoints):
        raise click.ClickException(
            f"talosconfig {str(path)!r} does not exist: pass --talosconfig <file> (or set "
            "TALOSCONFIG) to the talosconfig generated with the cluster (talosctl gen "
            "config), or -e <endpoint> --insecure for a node in maintenance mode")
    try:
        cfg = Talosconfig.load(path)
        if not cfg.contexts and (g.insecure or g.endpoints):
            return Context()
        return cfg.get(g.context)
    except TalosError as e:
        raise click.ClickException(f"talosconfig {str(path)!r}: {e}") from None


def connection_options(ctx: click.Context, *, insecure: bool = False,
                       cert_fingerprints: Sequence[str] = ()) -> ConnectionOptions:
    g = _global(ctx)
    context = current_context(ctx)
    try:
        opts = ConnectionOptions.from_context(context, endpoints=g.endpoints,
                                              insecure=insecure or g.insecure)
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
