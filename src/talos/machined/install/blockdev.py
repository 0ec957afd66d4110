"""Block devices seen through sysfs: partitions found by their GPT label (the kernel's
`PARTNAME` in each partition's uevent), the partition table re-read after it is written, and
whether a partition holds an xfs filesystem."""

from __future__ import annotations

import fcntl
import os
import time

SYS_BLOCK = "/sys/class/block"
BLKRRPART = 0x125F
XFS_MAGIC = b"XFSB"


def _uevent(name: str, root: str) -> dict[str, str]:
    try:
        with open(os.path.join(root, name, "uevent")) as f:
            return dict(line.rstrip("\n").partition("=")[::2] for line in f if "=" in line)
    except OSError:
        return {}


def partitions(disk: str, root: str = SYS_BLOCK) -> dict[str, str]:
    """{GPT label: /dev path} of the partitions of `disk` (e.g. /dev/vda)."""
    base = os.path.basename(os.path.realpath(disk))
    out: dict[str, str] = {}
    try:
        names = sorted(os.listdir(os.path.join(root, base)))
    except OSError:
        return out
    for name in names:
        if not os.path.exists(os.path.join(root, base, name, "partition")):
            continue
        ev = _uevent(os.path.join(base, name), root)
        if ev.get("PARTNAME"):
            out.setdefault(ev["PARTNAME"], "/dev/" + ev.get("DEVNAME", name))
    return out


def find_by_label(label: str, root: str = SYS_BLOCK) -> str | None:
    """The /dev path of the first partition (in sysfs name order) labelled `label`."""
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return None
    for name in names:
        ev = _uevent(name, root)
        if ev.get("DEVTYPE") == "partition" and ev.get("PARTNAME") == label:
            return "/dev/" + ev.get("DEVNAME", name)
    return None


def find_all_by_label(label: str, root: str = SYS_BLOCK) -> list[str]:
    """The /dev paths of every partition labelled `label`, in sysfs name order."""
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    out = []
    for name in names:
        ev = _uevent(name, root)
        if ev.get("DEVTYPE") == "partition" and ev.get("PARTNAME") == label:
            out.append("/dev/" + ev.get("DEVNAME", name))
    return out


def reread(disk: str, want: set[str], timeout_s: float = 10.0) -> dict[str, str]:
    """Ask the kernel to re-read `disk`'s partition table and wait until the partitions
    labelled `want` and their device nodes exist."""
    fd = os.open(disk, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, BLKRRPART)
    finally:
        os.close(fd)
    deadline = time.monotonic() + timeout_s
    while True:
        found = partitions(disk)
        if want <= found.keys() and all(os.path.exists(found[w]) for w in want):
            return found
        if time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


def is_xfs(dev: str) -> bool:
    try:
        with open(dev, "rb") as f:
            return f.read(4) == XFS_MAGIC
    except OSError:
        return False


def disk_of(partition: str, root: str = SYS_BLOCK) -> str | None:
    """The /dev path of the disk holding `partition` (e.g. /dev/vda3 -> /dev/vda)."""
    name = os.path.basename(os.path.realpath(partition))
    path = os.path.realpath(os.path.join(root, name))
    if not os.path.exists(os.path.join(path, "partition")):
        return None
    return "/dev/" + os.path.basename(os.path.dirname(path))


def partition_start(partition: str, root: str = SYS_BLOCK) -> int:
    """The first sector (512 bytes) of `partition` on its disk, 0 when unknown."""
    name = os.path.basename(os.path.realpath(partition))
    try:
        with open(os.path.join(root, name, "start")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 0
