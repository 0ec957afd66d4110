"""Format a partition as FAT32 from Python: the node ships no mkfs.vfat.

Only the empty file system is written here (boot sector, FSInfo, their backups, two FATs
and an empty root directory holding the volume label). Everything that goes into it is
written afterwards through the kernel's vfat driver (machined mounts the ESP while it
writes), so this module never has to handle directories, long names or cluster chains.

Why our own writer and not PyPI's `pyfatfs`: that library (with its PyFilesystem2
dependency) would have to be shipped in the image only to lay down these few sectors, and
its formatter sizes the FAT from its own rules; the layout below is the one Microsoft's
FAT specification ("FAT: General Overview of On-Disk Format", v1.03) describes and
dosfstools' mkfs.fat writes (32 reserved sectors, FSInfo at 1, backup boot sector at 6),
checked against `fsck.fat` in tests/unit/test_fat32.py.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

SECTOR = 512
RESERVED_SECTORS = 32
NUM_FATS = 2
FSINFO_SECTOR = 1
BACKUP_BOOT_SECTOR = 6
ROOT_CLUSTER = 2
MEDIA = 0xF8
#: a FAT32 volume needs at least this many clusters (fewer would be read as FAT16)
MIN_CLUSTERS = 65525
MAX_CLUSTERS = 0x0FFFFFF5
EOC = 0x0FFFFFFF
ZERO_CHUNK = 1 << 20


class FatError(Exception):
    """The device cannot hold a FAT32 file system (named in the message)."""


@dataclass(frozen=True)
class Geometry:
    total_sectors: int
    sectors_per_cluster: int
    fat_sectors: int

    @property
    def clusters(self) -> int:
        data = self.total_sectors - RESERVED_SECTORS - NUM_FATS * self.fat_sectors
        return data // self.sectors_per_cluster

    @property
    def data_start(self) -> int:
        """First sector of cluster 2 (the root directory)."""
        return RESERVED_SECTORS + NUM_FATS * self.fat_sectors


def sectors_per_cluster(total_sectors: int) -> int:
    """The cluster size the FAT specification's table gives for FAT32 (512-byte sectors):
    512 B up to 260 MiB, 4 KiB up to 8 GiB, 8 KiB up to 16 GiB, 16 KiB up to 32 GiB."""
    size = total_sectors * SECTOR
    if size <= 260 * (1 << 20):
        return 1
    if size <= 8 << 30:
        return 8
    if size <= 16 << 30:
        return 16
    return 32 if size <= 32 << 30 else 64


def geometry(total_sectors: int) -> Geometry:
    spc = sectors_per_cluster(total_sectors)
    # the specification's FAT size computation (section 3.5), FAT32 variant
    tmp1 = total_sectors - RESERVED_SECTORS
    tmp2 = (256 * spc + NUM_FATS) // 2
    fat_sectors = (tmp1 + tmp2 - 1) // tmp2
    geo = Geometry(total_sectors, spc, fat_sectors)
    if geo.clusters < MIN_CLUSTERS:
        raise FatError(f"{total_sectors * SECTOR // (1 << 20)} MiB is too small for FAT32 "
                       f"({geo.clusters} clusters, at least {MIN_CLUSTERS} needed)")
    if geo.clusters > MAX_CLUSTERS:
        raise FatError(f"{total_sectors * SECTOR >> 30} GiB is too large for FAT32")
    return geo


def _label11(label: str) -> bytes:
    raw = label.upper().encode("ascii", "replace")[:11]
    return raw.ljust(11, b" ")


def boot_sector(geo: Geometry, volume_id: int, label: str, hidden_sectors: int) -> bytes:
    b = bytearray(SECTOR)
    b[0:3] = b"\xEB\x58\x90"  # jump over the BPB (the boot code is never run on UEFI)
    b[3:11] = b"mkfs.fat"
    struct.pack_into("<HBHBHHBHHHII", b, 11,
                     SECTOR, geo.sectors_per_cluster, RESERVED_SECTORS, NUM_FATS,
                     0,  # root entries: 0 on FAT32
                     0,  # 16-bit total sectors: 0, the 32-bit field holds it
                     MEDIA,
                     0,  # 16-bit FAT size: 0 on FAT32
                     32, 64,  # sectors per track, heads (CHS: meaningless here)
                     hidden_sectors, geo.total_sectors)
    struct.pack_into("<IHHIHH", b, 36, geo.fat_sectors, 0, 0, ROOT_CLUSTER, FSINFO_SECTOR,
                     BACKUP_BOOT_SECTOR)
    # 52..63 reserved (zero); then the extended boot record
    struct.pack_into("<BBBI", b, 64, 0x80, 0, 0x29, volume_id & 0xFFFFFFFF)
    b[71:82] = _label11(label)
    b[82:90] = b"FAT32   "
    b[510:512] = b"\x55\xAA"
    return bytes(b)


def fsinfo_sector(geo: Geometry) -> bytes:
    b = bytearray(SECTOR)
    struct.pack_into("<I", b, 0, 0x41615252)
    struct.pack_into("<III", b, 484, 0x61417272, geo.clusters - 1, ROOT_CLUSTER + 1)
    struct.pack_into("<I", b, 508, 0xAA550000)
    return bytes(b)


def _zero(fd: int, offset: int, length: int) -> None:
    chunk = bytes(min(ZERO_CHUNK, length))
    while length > 0:
        n = os.pwrite(fd, chunk[:min(len(chunk), length)], offset)
        offset += n
        length -= n


def format_device(path: str, *, label: str = "EFI", volume_id: int | None = None,
                  offset: int = 0, size: int | None = None,
                  hidden_sectors: int = 0) -> Geometry:
    """Write an empty FAT32 file system to `path` (a partition, or `size` bytes of a file
    from `offset`); `hidden_sectors` is the partition's first LBA on its disk."""
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        if size is None:
            size = os.lseek(fd, 0, os.SEEK_END) - offset
        geo = geometry(size // SECTOR)
        if volume_id is None:
            volume_id = int.from_bytes(os.urandom(4), "little")
        boot = boot_sector(geo, volume_id, label, hidden_sectors)
        info = fsinfo_sector(geo)
        # the reserved area (old boot code, stale FSInfo), both FATs and the root cluster
        _zero(fd, offset, (geo.data_start + geo.sectors_per_cluster) * SECTOR)
        for sector, data in ((0, boot), (FSINFO_SECTOR, info), (BACKUP_BOOT_SECTOR, boot),
                             (BACKUP_BOOT_SECTOR + FSINFO_SECTOR, info)):
            os.pwrite(fd, data, offset + sector * SECTOR)
        fat_head = struct.pack("<III", 0x0FFFFF00 | MEDIA, EOC, EOC)  # cluster 2: the root
        for n in range(NUM_FATS):
            os.pwrite(fd, fat_head, offset + (RESERVED_SECTORS + n * geo.fat_sectors) * SECTOR)
        # the volume label as the root directory's first entry (attribute 0x08)
        os.pwrite(fd, _label11(label) + b"\x08", offset + geo.data_start * SECTOR)
        os.fsync(fd)
    finally:
        os.close(fd)
    return geo


def is_fat32(path: str) -> bool:
    """Whether the device or file at `path` starts with a FAT32 boot sector (its type string
    and the 0x55AA signature): an EFI partition made but never formatted does not."""
    try:
        with open(path, "rb") as f:
            sector = f.read(512)
    except OSError:
        return False
    return len(sector) == 512 and sector[82:90] == b"FAT32   " and sector[510:512] == b"\x55\xaa"
