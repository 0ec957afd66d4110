"""block.DisksController: the disks the kernel has (`talosctl get disks`).

One `Disk` per whole block device with a medium (id: its kernel name), from sysfs, re-read
every `POLL` seconds in a thread (this node has no udev to send events). In a sandbox these
are the host's disks: block devices are not namespaced, and the node only reads them.
"""

from __future__ import annotations

import asyncio
import os

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.block.sysfs import BlockDevice, bus_path, disks, read, read_int
from talos.machinery.resources.block import DISK, DiskSpec, pretty_size

POLL = 30.0
DEV_DISK = "/dev/disk"


def _transport(bus: str) -> str:
    for needle, name in (("/virtio", "virtio"), ("/nvme", "nvme"), ("/usb", "usb"),
                         ("/ata", "sata"), ("/mmc", "mmc")):
        if needle in bus:
            return name
    return ""


def _symlinks(dev_path: str, root: str = DEV_DISK) -> tuple[str, ...]:
    """The /dev/disk/by-* links that name this device."""
    out: list[str] = []
    try:
        kinds = sorted(os.listdir(root))
    except OSError:
        return ()
    for kind in kinds:
        d = os.path.join(root, kind)
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        out += [os.path.join(d, n) for n in names
                if os.path.realpath(os.path.join(d, n)) == dev_path]
    return tuple(out)


def disk_spec(dev: BlockDevice) -> DiskSpec:
    sysdev = os.path.join(dev.sys_path, "device")
    bus = bus_path(dev)
    size = dev.size
    subsystem = os.path.join(sysdev, "subsystem")
    return DiskSpec(
        dev_path=dev.dev_path, size=size, pretty_size=pretty_size(size),
        io_size=read_int(os.path.join(dev.queue, "minimum_io_size")),
        sector_size=read_int(os.path.join(dev.queue, "logical_block_size")),
        readonly=read(os.path.join(dev.sys_path, "ro")) == "1",
        cdrom=read(os.path.join(sysdev, "type")) == "5",
        model=read(os.path.join(sysdev, "model")),
        serial=read(os.path.join(dev.sys_path, "serial")) or read(os.path.join(sysdev, "serial")),
        modalias=read(os.path.join(sysdev, "modalias")),
        wwid=read(os.path.join(dev.sys_path, "wwid")) or read(os.path.join(sysdev, "wwid")),
        bus_path=bus,
        sub_system=os.path.realpath(subsystem) if os.path.exists(subsystem) else "",
        transport=_transport(bus),
        rotational=read(os.path.join(dev.queue, "rotational")) == "1",
        secondary_disks=tuple(sorted(os.listdir(os.path.join(dev.sys_path, "slaves"))))
        if os.path.isdir(os.path.join(dev.sys_path, "slaves")) else (),
        symlinks=_symlinks(dev.dev_path))


def read_disks() -> dict[str, DiskSpec]:
    return {d.name: disk_spec(d) for d in disks()}


class DiskController:
    name = "block.DisksController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(DISK),)

    def __init__(self, poll: float = POLL) -> None:
        self.poll = poll

    async def run(self, r: ControllerContext) -> None:
        ns, rtype = DISK.default_namespace, DISK.type
        async for _ in r.wake_ups():
            found = await asyncio.to_thread(read_disks)
            r.start_tracking_outputs()
            for name, spec in found.items():
                await r.put(ns, rtype, name, spec)
            await r.cleanup_outputs()
            r.requeue_after(self.poll)
