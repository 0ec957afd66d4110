"""storage.StorageService: Disks (the node's block devices, read from /sys/block) and
BlockDeviceWipe (talos.machined.server.blockwipe)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import grpc
from google.protobuf import empty_pb2

from talos.api.common import common_pb2
from talos.api.storage import storage_pb2 as s
from talos.api.storage import storage_pb2_grpc
from talos.machined.controllers.block.sysfs import read as read_sysfs
from talos.machined.platform import metal
from talos.machined.server import blockwipe
from talos.machined.server.context import NodeAPI
from talos.machinery.errors import FailedPrecondition
from talos.machinery.resources.block import VOLUME_STATUS, VolumeStatusSpec

SYS_BLOCK = "/sys/block"
#: virtual devices that are not disks
_SKIP = ("loop", "ram", "zram", "dm-", "md", "nbd")


def _type(name: str, base: str) -> int:
    if name.startswith("nvme"):
        return s.Disk.NVME
    if name.startswith("mmcblk"):
        return s.Disk.SD
    if name.startswith("sr"):
        return s.Disk.CD
    rotational = read_sysfs(os.path.join(base, "queue", "rotational"))
    if rotational == "1":
        return s.Disk.HDD
    if rotational == "0":
        return s.Disk.SSD
    return s.Disk.UNKNOWN


def list_disks(sys_block: str = SYS_BLOCK) -> list[s.Disk]:
    try:
        names = sorted(os.listdir(sys_block))
    except OSError as exc:
        raise FailedPrecondition(f"cannot list block devices ({sys_block}): {exc.strerror}") \
            from None
    disks = []
    for name in names:
        if name.startswith(_SKIP):
            continue
        base = os.path.join(sys_block, name)
        sectors = read_sysfs(os.path.join(base, "size"))
        size = int(sectors) * 512 if sectors.isdigit() else 0
        if size == 0:
            continue
        dev = os.path.join(base, "device")
        subsystem = os.path.realpath(os.path.join(base, "subsystem")) \
            if os.path.exists(os.path.join(base, "subsystem")) else ""
        bus = os.path.realpath(dev) if os.path.exists(dev) else ""
        disks.append(s.Disk(
            size=size, model=read_sysfs(os.path.join(dev, "model")), device_name=name,
            name=read_sysfs(os.path.join(dev, "name")),
            serial=read_sysfs(os.path.join(dev, "serial")),
            modalias=read_sysfs(os.path.join(dev, "modalias")),
            uuid=read_sysfs(os.path.join(dev, "uuid")), wwid=read_sysfs(os.path.join(dev, "wwid")),
            type=_type(name, base),  # type: ignore[arg-type]
            bus_path=bus.removeprefix("/sys/devices"),
            subsystem=subsystem, readonly=read_sysfs(os.path.join(base, "ro")) == "1"))
    return disks


#: a maintenance client has no credentials: on a node that does not own its disks it may not
#: wipe them (upstream's maintenance mode runs only on machines that own theirs)
MAINTENANCE_OFF_METAL = ("node is in maintenance mode: wiping block devices without "
                         "credentials is allowed only on a metal node (this node runs on a "
                         "host whose disks are not its own): apply a config, then wipe with "
                         "an admin talosconfig")


class StorageServicer(storage_pb2_grpc.StorageServiceServicer):
    def __init__(self, node: NodeAPI, *, maintenance: bool = False) -> None:
        self.node = node
        #: serving the maintenance API (unauthenticated clients with the reader role)
        self.maintenance = maintenance

    async def Disks(self, request: empty_pb2.Empty, context: grpc.aio.ServicerContext[Any, Any]
                    ) -> s.DisksResponse:
        disks = await asyncio.to_thread(list_disks)
        return s.DisksResponse(messages=[s.Disks(
            metadata=common_pb2.Metadata(hostname=self.node.hostname), disks=disks)])

    async def BlockDeviceWipe(self, request: s.BlockDeviceWipeRequest,
                              context: grpc.aio.ServicerContext[Any, Any]
                              ) -> s.BlockDeviceWipeResponse:
        # upstream v1.13.9 (internal/app/storaged): admin, or reader in maintenance mode.
        # Here apid's authz gives the method to admins only and the maintenance API (whose
        # every client is a reader) lists it, so the roles are settled before this runs.
        if self.node.sandbox:
            # a sandbox node sees the host's block devices: it must never write to them
            raise FailedPrecondition(blockwipe.CONTAINER_MODE)
        if self.maintenance and not metal.active():
            raise FailedPrecondition(MAINTENANCE_OFF_METAL)
        volumes = [blockwipe.Volume(r.id, spec.location, spec.mount_location,
                                    spec.parent_location)
                   for r in await self.node.state.list(VOLUME_STATUS.default_namespace,
                                                       VOLUME_STATUS.type)
                   if isinstance(spec := r.spec, VolumeStatusSpec)]
        descriptors = list(request.devices)
        targets = []
        for d in descriptors:  # every device is validated before any is wiped
            targets.append(await asyncio.to_thread(
                blockwipe.validate, d.device, volumes, skip_volume_check=d.skip_volume_check,
                skip_secondary_check=d.skip_secondary_check))
        for d, target in zip(descriptors, targets, strict=True):
            method = s.BlockDeviceWipeDescriptor.Method.Name(d.method) \
                if d.method in s.BlockDeviceWipeDescriptor.Method.values() else str(d.method)
            await asyncio.to_thread(blockwipe.wipe, target, method,
                                    drop_partition=d.drop_partition)
        return s.BlockDeviceWipeResponse(messages=[s.BlockDeviceWipe(
            metadata=common_pb2.Metadata(hostname=self.node.hostname))])
