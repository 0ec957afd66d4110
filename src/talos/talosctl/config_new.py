"""`talosctl config new [<path>] [--roles ...] [--crt-ttl ...]`: a talosconfig for new roles.

As Talos does: one node at most, roles checked before asking, an existing file is never
overwritten ("talosconfig file already exists"), the node issues the certificate
(GenerateClientConfiguration, admin only) and the new context gets the endpoints this
command used, so it works right away. The file is created atomically and exclusively (a
file that appears meanwhile is not replaced either).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from typing import Any

import click

from talos.machinery.atomic import write_atomic
from talos.machinery.client.clientconfig import check_roles
from talos.machinery.client.talosconfig import Talosconfig


def parse_roles(values: tuple[str, ...]) -> tuple[str, ...]:
    """`--roles a,b --roles c` (Go string-slice flag) -> checked role names."""
    return check_roles([r for v in values for r in v.split(",")])


def exists_error(path: str) -> click.ClickException:
    return click.ClickException(f"talosconfig file already exists: {path!r}")


def generate_talosconfig(ctx: click.Context, path: str, role_flags: tuple[str, ...],
                         crt_ttl: str) -> None:
    from talos.api.machine import machine_pb2
    from talos.talosctl.nodeapi import Session, call, target
    from talos.talosctl.timefmt import parse_duration

    nodes = target(ctx)
    if len(nodes) > 1:
        raise click.ClickException(
            f'command "talosconfig" is not supported with multiple nodes ({", ".join(nodes)})')
    roles = parse_roles(role_flags)
    ttl = dt.timedelta(seconds=parse_duration(crt_ttl, "--crt-ttl"))
    if ttl <= dt.timedelta(0):
        raise click.BadParameter(f"must be positive, got {crt_ttl!r}", param_hint="--crt-ttl")
    if os.path.lexists(path):
        raise exists_error(path)

    async def generate(s: Session) -> tuple[Any, tuple[str, ...]]:
        req = machine_pb2.GenerateClientConfigurationRequest(roles=list(roles))
        req.crt_ttl.FromTimedelta(ttl)
        reply = await s.machine().GenerateClientConfiguration(req, metadata=s.md)
        messages = s.ok(reply.messages)
        s.raise_errors()
        if len(messages) != 1:
            raise click.ClickException(f"expected 1 message, got {len(messages)}")
        return messages[0], tuple(s.conn.options.endpoints)

    msg, endpoints = call(ctx, generate)
    cfg = Talosconfig.from_yaml(bytes(msg.talosconfig), source="GenerateClientConfiguration")
    name = cfg.context
    if name not in cfg.contexts:
        raise click.ClickException(
            f"the node returned a talosconfig without its current context {name!r}")
    # make the new config immediately useful: the endpoints this command reached
    cfg = cfg.with_context(name, replace(cfg.contexts[name], endpoints=endpoints))
    try:
        write_atomic(path, cfg.to_yaml(), 0o600, exclusive=True)
    except FileExistsError:
        raise exists_error(path) from None
