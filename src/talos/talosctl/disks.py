"""`talosctl disks`: block devices of the node (storage.StorageService/Disks)."""

from __future__ import annotations

import click

from talos.talosctl.formats import emit, output_option
from talos.talosctl.nodeapi import Session, call, echo_table, humanize_bytes, unimplemented_aware


@click.command()
@output_option
@click.pass_context
def disks(ctx: click.Context, output: str) -> None:
    """Get the list of disks from /sys/block on the machine."""
    from google.protobuf import empty_pb2

    from talos.api.storage import storage_pb2, storage_pb2_grpc

    async def run(s: Session) -> None:
        api = storage_pb2_grpc.StorageServiceStub(s.conn.channel)
        reply = await unimplemented_aware(
            s, api.Disks(empty_pb2.Empty(), metadata=s.md), "disks",
            "the node does not serve its disk list (StorageService) yet")
        answered = s.ok(reply.messages)
        if emit(((s.node_of(msg), msg) for msg in answered), output):
            s.raise_errors()
            return
        rows = [("NODE", "DEV", "MODEL", "SERIAL", "TYPE", "UUID", "WWID", "MODALIAS", "NAME",
                 "SIZE", "BUS_PATH", "SUBSYSTEM", "READ_ONLY", "SYSTEM_DISK")]
        for msg in answered:
            for d in msg.disks:
                rows.append((s.node_of(msg), d.device_name, d.model or "-", d.serial or "-",
                             storage_pb2.Disk.DiskType.Name(d.type), d.uuid or "-",
                             d.wwid or "-", d.modalias or "-", d.name or "-",
                             humanize_bytes(d.size), d.bus_path or "-", d.subsystem or "-",
                             "*" if d.readonly else "", "*" if d.system_disk else ""))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)
