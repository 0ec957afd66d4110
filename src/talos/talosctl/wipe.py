"""`talosctl wipe disk <device names>...`: wipe block devices that are not used as volumes
(storage.StorageService/BlockDeviceWipe), as upstream Talos v1.13.9
(cmd/talosctl/cmd/talos/wipe.go): nothing is printed on success."""

from __future__ import annotations

import click

from talos.talosctl.nodeapi import Session, call

#: BlockDeviceWipeDescriptor.Method, in enum order (the first is the default)
METHODS = ("FAST", "ZEROES")


@click.group()
def wipe() -> None:
    """Wipe block device or volumes"""


@wipe.command("disk")
@click.argument("devices", metavar="<device names>...", nargs=-1, required=True)
@click.option("--method", default=METHODS[0], show_default=True,
              help=f"wipe method to use [{' '.join(METHODS)}]")
@click.option("--skip-volume-check", is_flag=True, hidden=True, help="skip volume check")
@click.option("--skip-secondary-check", is_flag=True, hidden=True,
              help="skip secondary disk check (e.g. underlying disk for RAID or LVM), use "
                   "with caution")
@click.option("--drop-partition", is_flag=True,
              help="drop partition after wipe (if applicable)")
@click.option("-i", "--insecure", is_flag=True, help="use Talos maintenance mode API")
@click.pass_context
def disk(ctx: click.Context, devices: tuple[str, ...], method: str, skip_volume_check: bool,
         skip_secondary_check: bool, drop_partition: bool, insecure: bool) -> None:
    """Wipe a block device (disk or partition) which is not used as a volume.

    Use device names as arguments, for example: vda or sda5."""
    from talos.api.storage import storage_pb2 as st
    from talos.api.storage import storage_pb2_grpc

    if method not in METHODS:
        raise click.ClickException(f"invalid wipe method {method!r}")
    req = st.BlockDeviceWipeRequest(devices=[st.BlockDeviceWipeDescriptor(
        device=name, method=method,
        skip_volume_check=skip_volume_check, skip_secondary_check=skip_secondary_check,
        drop_partition=drop_partition) for name in devices])

    async def run(s: Session) -> None:
        api = storage_pb2_grpc.StorageServiceStub(s.conn.channel)
        s.ok((await api.BlockDeviceWipe(req, metadata=s.md)).messages)
        s.raise_errors()

    call(ctx, run, insecure=insecure)
