"""The block devices the kernel has, read from sysfs (blocking: call in a thread).

Block devices are not namespaced: a sandbox node sees the host's disks, exactly as the
host does, and only reads them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

SYS_BLOCK = "/sys/block"


def read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def read_int(path: str) -> int:
    text = read(path)
    return int(text) if text.isdigit() else 0


@dataclass(frozen=True)
class BlockDevice:
    """One disk or partition: kernel name, sysfs directory, parent disk for partitions."""

    name: str
    sys_path: str
    parent: str = ""

    @property
    def dev_path(self) -> str:
        return f"/dev/{self.name}"

    @property
    def size(self) -> int:
        return read_int(os.path.join(self.sys_path, "size")) * 512

    @property
    def queue(self) -> str:
        return os.path.join(SYS_BLOCK, self.parent or self.name, "queue")


def disks(root: str = SYS_BLOCK) -> list[BlockDevice]:
    """Every whole disk with a medium (size > 0), sorted by name."""
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    out = [BlockDevice(n, os.path.join(root, n)) for n in names]
    return [d for d in out if d.size > 0]


def partitions(disk: BlockDevice) -> list[BlockDevice]:
    """The disk's partitions (sysfs subdirectories holding a `partition` file)."""
    try:
        names = sorted(os.listdir(disk.sys_path))
    except OSError:
        return []
    return [BlockDevice(n, os.path.join(disk.sys_path, n), disk.name) for n in names
            if os.path.exists(os.path.join(disk.sys_path, n, "partition"))]


def bus_path(dev: BlockDevice) -> str:
    """The device's place on its bus, relative to /sys/devices (`/pci0000:00/.../virtio1`)."""
    real = os.path.realpath(os.path.join(dev.sys_path, "device"))
    if not os.path.exists(os.path.join(dev.sys_path, "device")):
        return ""
    return real.removeprefix("/sys/devices")
