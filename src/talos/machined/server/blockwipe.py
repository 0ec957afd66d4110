"""Wiping a block device (storage.StorageService/BlockDeviceWipe), as upstream Talos v1.13.9
(internal/app/storaged/server.go) does it: every device is validated before any is wiped.

Blocking (sysfs reads, device I/O): call in a thread.

Devices are resolved from sysfs directly (`/sys/class/block/<name>`), not from the `Disk`
resources: those are re-read every 30 s, and a wipe must judge the device as it is now.

What FAST clears: upstream's `partition.WipeWithSignatures` zeroes the ranges blkid found
signatures in, then go-blockdevice's `FastWipe` zeroes the first 1 MiB and (on a device of
at least 2 MiB) the last 1 MiB, after an advisory BLKDISCARD of the whole device. This node
zeroes the ranges `wipefs --no-act` reports (when wipefs is installed: a signature beyond
the first/last MiB, e.g. a btrfs superblock mirror at 64 MiB) and the first and last 1 MiB
(which hold the MBR, the primary and the backup GPT, and every common filesystem, RAID and
LVM superblock). It sends no BLKDISCARD (upstream ignores its result; zeroing is what clears
the signatures). ZEROES zeroes the whole device (BLKZEROOUT, else writes of zeroes).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from talos.machined.controllers.block.sysfs import read as read_sysfs
from talos.machinery.errors import FailedPrecondition, InvalidArgument, NotFound, TalosError

SYS_CLASS_BLOCK = "/sys/class/block"
DEV = "/dev"
#: go-blockdevice's FastWipeRange
FAST_WIPE_RANGE = 1 << 20
_CHUNK = 1 << 20
#: <linux/fs.h> _IO(0x12, 127): zero out [offset, offset+length) of a block device
BLKZEROOUT = 0x127F
#: <linux/fs.h> _IOR(0x12, 114, size_t): the device size in bytes
BLKGETSIZE64 = 0x80081272

CONTAINER_MODE = "wiping block devices is not supported in container mode"


class WipeFailed(TalosError):
    """The device could not be opened, locked or written (gRPC INTERNAL, as upstream)."""

    code = "INTERNAL"


@dataclass(frozen=True)
class Volume:
    """Where one of the node's volumes lives (a VolumeStatus resource's locations)."""

    id: str
    location: str = ""
    mount_location: str = ""
    parent_location: str = ""


@dataclass(frozen=True)
class Target:
    """A validated device: kernel name, its parent disk and partition number (partitions)."""

    name: str
    parent: str = ""
    partition: int = 0


def _q(value: str) -> str:
    """A name quoted as Go's %q quotes it (upstream's messages)."""
    return json.dumps(value)


def _uevent(sys_dir: str) -> dict[str, str]:
    out = {}
    for line in read_sysfs(os.path.join(sys_dir, "uevent")).splitlines():
        key, _, value = line.partition("=")
        out[key] = value
    return out


def _slaves(sys_dir: str) -> list[str]:
    try:
        return os.listdir(os.path.join(sys_dir, "slaves"))
    except OSError:
        return []


def resolve(name: str, sys_class_block: str = SYS_CLASS_BLOCK) -> Target:
    """The device `name` (a kernel name, `sdb` or `sdb1`), or NotFound / InvalidArgument."""
    sys_dir = os.path.join(sys_class_block, name)
    if not name or "/" in name or name in (".", "..") or not os.path.exists(sys_dir):
        raise NotFound(f"blockdevice {_q(name)} not found")
    kind = _uevent(sys_dir).get("DEVTYPE", "")
    if kind == "disk":
        return Target(name)
    if kind == "partition":
        parent = os.path.basename(os.path.dirname(os.path.realpath(sys_dir)))
        number = read_sysfs(os.path.join(sys_dir, "partition"))
        return Target(name, parent, int(number) if number.isdigit() else 0)
    raise InvalidArgument(f"blockdevice {_q(name)} is of unsupported type {_q(kind)}")


def validate(name: str, volumes: Iterable[Volume], *, skip_volume_check: bool = False,
             skip_secondary_check: bool = False,
             sys_class_block: str = SYS_CLASS_BLOCK) -> Target:
    """Upstream's `validateDeviceForWipe`: the device exists, is a disk or a partition, its
    disk is writable and no CD-ROM, and (unless skipped) nothing is built on it and no volume
    of the node lives on it."""
    target = resolve(name, sys_class_block)
    disk_dir = os.path.join(sys_class_block, target.parent or target.name)
    if read_sysfs(os.path.join(disk_dir, "ro")) == "1":
        raise FailedPrecondition(f"blockdevice {_q(name)} is read-only")
    if read_sysfs(os.path.join(disk_dir, "device", "type")) == "5":
        raise FailedPrecondition(f"blockdevice {_q(name)} is a CD-ROM")
    if not skip_secondary_check:
        try:
            others = sorted(os.listdir(sys_class_block))
        except OSError:
            others = []
        for other in others:
            if name in _slaves(os.path.join(sys_class_block, other)):
                what = "disk" if not target.parent else "blockdevice"
                raise FailedPrecondition(f"blockdevice {_q(name)} is in use by {what} {_q(other)}")
    if not skip_volume_check:
        for vol in volumes:
            for location in (os.path.basename(vol.location),
                             os.path.basename(vol.mount_location)):
                for dev in (target.name, target.parent):
                    if dev and location == dev:
                        raise FailedPrecondition(
                            f"blockdevice {_q(dev)} is in use by volume {_q(vol.id)}")
            if os.path.basename(vol.parent_location) == name:
                raise FailedPrecondition(f"blockdevice {_q(name)} is in use by volume {_q(vol.id)}")
    return target


def _size(fd: int) -> int:
    if _is_block(fd):
        return int.from_bytes(fcntl.ioctl(fd, BLKGETSIZE64, bytes(8)), "little")
    return os.fstat(fd).st_size


def _is_block(fd: int) -> bool:
    return stat.S_ISBLK(os.fstat(fd).st_mode)


def zero_range(fd: int, start: int, length: int) -> None:
    """Zero [start, start+length): BLKZEROOUT on a block device, else writes of zeroes."""
    if length <= 0:
        return
    if _is_block(fd):
        try:
            fcntl.ioctl(fd, BLKZEROOUT, start.to_bytes(8, "little") + length.to_bytes(8, "little"))
            return
        except OSError:
            pass  # not supported by this device: write the zeroes
    zero = bytes(min(length, _CHUNK))
    done = 0
    while done < length:
        done += os.pwrite(fd, zero[:min(len(zero), length - done)], start + done)
    os.fsync(fd)


def signature_ranges(path: str) -> list[tuple[int, int]]:
    """(offset, length) of every signature wipefs finds on `path` (none if wipefs is not
    installed or cannot read it)."""
    wipefs = shutil.which("wipefs")
    if wipefs is None:
        return []
    try:
        out = subprocess.run([wipefs, "--no-act", "--json", "-O", "OFFSET,LENGTH", path],
                             capture_output=True, text=True, timeout=60, check=False,
                             stdin=subprocess.DEVNULL)
        found = json.loads(out.stdout or "{}").get("signatures", [])
        return [(int(str(sig["offset"]), 0), int(sig["length"])) for sig in found]
    except (OSError, ValueError, KeyError, TypeError, subprocess.SubprocessError):
        return []


def fast_wipe(fd: int, signatures: Iterable[tuple[int, int]]) -> None:
    """FAST: zero the `signatures` ((offset, length), from `signature_ranges`), then the
    first and last FAST_WIPE_RANGE."""
    size = _size(fd)
    for offset, length in signatures:
        if 0 <= offset < size and length > 0:
            zero_range(fd, offset, min(length, size - offset))
    zero_range(fd, 0, min(size, FAST_WIPE_RANGE))
    if size >= 2 * FAST_WIPE_RANGE:
        zero_range(fd, size - FAST_WIPE_RANGE, FAST_WIPE_RANGE)


def zeroes_wipe(fd: int) -> None:
    """ZEROES: the whole device."""
    zero_range(fd, 0, _size(fd))


def open_exclusive(name: str, dev: str = DEV) -> int:
    """`/dev/<name>` open for writing with O_EXCL: a mounted or held device is refused
    (EBUSY), as upstream's OpenAssertNotMounted."""
    try:
        return os.open(os.path.join(dev, name), os.O_RDWR | os.O_EXCL | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == errno.EBUSY:
            raise FailedPrecondition(f"block device {_q(name)} is mounted or in use") from None
        raise WipeFailed(f"failed to open block device {_q(name)}: {e.strerror}") from None


def wipe(target: Target, method: str, *, drop_partition: bool = False,
         dev: str = DEV) -> None:
    """Upstream's `wipeDevice`: open exclusively, lock (the parent disk for a partition),
    wipe with `method` (FAST or ZEROES), and with `drop_partition` delete the partition from
    its disk's table."""
    if method not in ("FAST", "ZEROES"):
        raise InvalidArgument(f"unsupported wipe method {method}")
    parent_fd = -1
    if target.parent:
        try:
            parent_fd = os.open(os.path.join(dev, target.parent), os.O_RDWR | os.O_CLOEXEC)
        except OSError as e:
            raise WipeFailed(f"failed to open block device {_q(target.parent)}: "
                             f"{e.strerror}") from None
    # probed before the exclusive open (wipefs is a reader of its own)
    signatures = signature_ranges(os.path.join(dev, target.name)) if method == "FAST" else []
    try:
        fd = open_exclusive(target.name, dev)
        try:
            lock_fd = parent_fd if parent_fd >= 0 else fd
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX)
            except OSError as e:
                raise WipeFailed(f"failed to lock block device "
                                 f"{_q(target.parent or target.name)}: {e.strerror}") from None
            try:
                if method == "ZEROES":
                    zeroes_wipe(fd)
                else:
                    fast_wipe(fd, signatures)
            except OSError as e:
                raise WipeFailed(f"failed to wipe block device {_q(target.name)}: "
                                 f"{e.strerror}") from None
        finally:
            os.close(fd)
        if drop_partition and target.parent and target.partition:
            _drop_partition(os.path.join(dev, target.parent), target.partition)
    finally:
        if parent_fd >= 0:
            os.close(parent_fd)


def _drop_partition(disk: str, number: int) -> None:
    sfdisk = shutil.which("sfdisk")
    if sfdisk is None:
        raise WipeFailed("failed to delete partition: sfdisk is not installed on this node")
    r = subprocess.run([sfdisk, "--no-reread", "--delete", disk, str(number)],
                       capture_output=True, text=True, timeout=60, check=False,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise WipeFailed(f"failed to delete partition: {r.stderr.strip() or r.returncode}")
