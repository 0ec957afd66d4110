"""`talosctl bootstrap [--recover-from FILE]`: start etcd on one control plane, or recover a
cluster that lost quorum from a snapshot in one command (upload, then Bootstrap)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import click

from talos.talosctl.rpc import run_machine

CHUNK = 1024 * 1024


@click.command()
@click.option("--recover-from", "recover_from", metavar="PATH",
              help="recover etcd cluster from the snapshot")
@click.option("--recover-skip-hash-check", is_flag=True,
              help="skip integrity check when recovering etcd (use when recovering from data "
                   "directory copy)")
@click.pass_context
def bootstrap(ctx: click.Context, recover_from: str | None,
              recover_skip_hash_check: bool) -> None:
    """Bootstrap the etcd cluster on the specified node.

    When Talos cluster is created etcd service on control plane nodes enter the join loop
    waiting to join etcd peers from other control plane nodes. One node should be picked as
    the bootstrap node. When bootstrapped, it creates a single-member etcd cluster.
    """
    from talos.api.common import common_pb2
    from talos.api.machine import machine_pb2 as m

    if recover_from is not None and not os.path.isfile(recover_from):
        raise click.ClickException(f"snapshot {recover_from!r} does not exist or is not a file")

    async def call(stub: Any, md: Any) -> Any:
        if recover_from is not None:
            async def chunks() -> AsyncIterator[common_pb2.Data]:
                with open(recover_from, "rb") as f:  # noqa: ASYNC230 - CLI upload
                    while data := f.read(CHUNK):
                        yield common_pb2.Data(bytes=data)
            await stub.EtcdRecover(chunks(), metadata=md)
        return await stub.Bootstrap(m.BootstrapRequest(
            recover_etcd=recover_from is not None,
            recover_skip_hash_check=recover_skip_hash_check), metadata=md)

    reply = run_machine(ctx, call, single_node=True)
    for msg in reply.messages:
        if msg.metadata.error:
            raise click.ClickException(f"error executing bootstrap: {msg.metadata.error}")
    if recover_from is not None:
        click.echo(f"etcd recovery from {recover_from!r} started; other control planes "
                   "re-join it by themselves")
