"""`talosctl etcd downgrade validate|enable <version>` and `etcd downgrade cancel`
(Talos v1.13.9): one node at a time, a MESSAGE column (NODE first when the node is named).

The nodes here run etcd 3.4, which has no downgrade API: they refuse with that reason.
"""

from __future__ import annotations

from typing import Any

import click

from talos.talosctl.rpc import check_errors, run_machine


@click.group()
def downgrade() -> None:
    """Manage etcd storage system downgrades."""


def _single(ctx: click.Context, command: str) -> None:
    from talos.talosctl.nodeapi import target
    if len(target(ctx)) > 1:
        raise click.ClickException(f'command "{command}" is not supported with multiple nodes')


def _print(reply: Any, what: str) -> None:
    rows = []
    for msg in reply.messages:
        if msg.metadata.error:
            continue
        text = f"downgrade {what} success, cluster version " \
               f"{msg.cluster_downgrade.cluster_version}"
        rows.append((msg.metadata.hostname, text))
    if rows:
        named = any(node for node, _ in rows)
        click.echo("NODE   MESSAGE" if named else "MESSAGE")
        for node, text in rows:
            click.echo(f"{node}   {text}" if named else text)
    check_errors(reply.messages, f"etcd downgrade {what}")


@downgrade.command("validate")
@click.argument("version", metavar="<version>")
@click.pass_context
def validate(ctx: click.Context, version: str) -> None:
    """Validate if the etcd storage system can be downgraded to the specified version."""
    from talos.api.machine import machine_pb2 as m
    _single(ctx, "etcd downgrade validate")
    reply = run_machine(ctx, lambda s, md: s.EtcdDowngradeValidate(
        m.EtcdDowngradeValidateRequest(version=version), metadata=md))
    _print(reply, "validate")


@downgrade.command("enable")
@click.argument("version", metavar="<version>")
@click.pass_context
def enable(ctx: click.Context, version: str) -> None:
    """Enable etcd storage system downgrade to the specified version."""
    from talos.api.machine import machine_pb2 as m
    _single(ctx, "etcd downgrade enable")
    reply = run_machine(ctx, lambda s, md: s.EtcdDowngradeEnable(
        m.EtcdDowngradeEnableRequest(version=version), metadata=md))
    _print(reply, "enable")


@downgrade.command("cancel")
@click.pass_context
def cancel(ctx: click.Context) -> None:
    """Cancel etcd storage system downgrade."""
    from google.protobuf import empty_pb2
    _single(ctx, "etcd downgrade cancel")
    reply = run_machine(ctx, lambda s, md: s.EtcdDowngradeCancel(empty_pb2.Empty(),
                                                                 metadata=md))
    _print(reply, "cancel")
