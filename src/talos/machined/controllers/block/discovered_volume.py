"""block.DiscoveryController: what is on each disk and partition (`get discoveredvolumes`).

One `DiscoveredVolume` per disk and partition (id: its kernel name) from sysfs plus a
superblock probe (`probe`), re-read every `POLL` seconds in a thread. Devices the node may
not open (a sandbox node reading the host's disks without permission) are still listed with
their size and place, and an empty `name` (nothing discovered).
"""

from __future__ import annotations

import asyncio
import os

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.block.probe import probe
from talos.machined.controllers.block.sysfs import (
    BlockDevice,
    bus_path,
    disks,
    partitions,
    read_int,
)
from talos.machinery.resources.block import DISCOVERED_VOLUME, DiscoveredVolumeSpec, pretty_size

POLL = 30.0


def volume_spec(dev: BlockDevice) -> DiscoveredVolumeSpec:
    found = probe(dev.dev_path)
    size = dev.size
    return DiscoveredVolumeSpec(
        dev_path=dev.dev_path, type="partition" if dev.parent else "disk",
        device_path=bus_path(BlockDevice(dev.parent, os.path.dirname(dev.sys_path)))
        if dev.parent else bus_path(dev),
        parent=dev.parent, parent_dev_path=f"/dev/{dev.parent}" if dev.parent else "",
        offset=read_int(os.path.join(dev.sys_path, "start")) * 512 if dev.parent else 0,
        size=size, pretty_size=pretty_size(size),
        sector_size=read_int(os.path.join(dev.queue, "logical_block_size")),
        io_size=read_int(os.path.join(dev.queue, "minimum_io_size")),
        name=found.name, uuid=found.uuid, label=found.label,
        filesystem_block_size=found.block_size,
        partition_index=read_int(os.path.join(dev.sys_path, "partition")) if dev.parent else 0)


def read_volumes() -> dict[str, DiscoveredVolumeSpec]:
    out: dict[str, DiscoveredVolumeSpec] = {}
    for d in disks():
        out[d.name] = volume_spec(d)
        for p in partitions(d):
            out[p.name] = volume_spec(p)
    return out


class DiscoveredVolumeController:
    name = "block.DiscoveryController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(DISCOVERED_VOLUME),)

    def __init__(self, poll: float = POLL) -> None:
        self.poll = poll

    async def run(self, r: ControllerContext) -> None:
        ns, rtype = DISCOVERED_VOLUME.default_namespace, DISCOVERED_VOLUME.type
        async for _ in r.wake_ups():
            found = await asyncio.to_thread(read_volumes)
            r.start_tracking_outputs()
            for name, spec in found.items():
                await r.put(ns, rtype, name, spec)
            await r.cleanup_outputs()
            r.requeue_after(self.poll)
