"""GUID partition tables, read and written in Python (the image ships no partitioner).

The layout is upstream's UEFI one (Talos v1.13.9 `partition.NewPartitionOptions` with UKI):
EFI = 100 MiB + 1 MiB + 2000 MiB (the old EFI, BIOS and BOOT sizes), META 1 MiB, STATE
100 MiB, EPHEMERAL the rest; EFI has the EFI System type, the others Linux filesystem data;
partitions start on 1 MiB boundaries. The imager's metal disk has the same sizes (older
builds had a 100 MiB EFI): `has_layout` accepts any sizes, only the labels, their order and
their types count.
"""

from __future__ import annotations

import os
import struct
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

SECTOR = 512
MIB = 1 << 20
ENTRY_COUNT = 128
ENTRY_SIZE = 128
ENTRY_SECTORS = ENTRY_COUNT * ENTRY_SIZE // SECTOR  # 32
HEADER = struct.Struct("<8sIIIIQQQQ16sQIII")  # 92 bytes
ENTRY = struct.Struct("<16s16sQQQ72s")
SIGNATURE = b"EFI PART"
REVISION = 0x00010000

EFI_SYSTEM = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
LINUX_DATA = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"

#: (label, GPT type, size in bytes; 0 = the rest of the disk)
LAYOUT: tuple[tuple[str, str, int], ...] = (
    ("EFI", EFI_SYSTEM, (100 + 1 + 2000) * MIB),
    ("META", LINUX_DATA, 1 * MIB),
    ("STATE", LINUX_DATA, 100 * MIB),
    ("EPHEMERAL", LINUX_DATA, 0),
)


class GPTError(Exception):
    """The disk cannot hold the layout, or its partition table cannot be written."""


@dataclass(frozen=True)
class Partition:
    number: int  # 1-based, as the kernel names partitions
    type_guid: str  # upper case, as sfdisk prints it
    guid: str
    name: str
    first_lba: int
    last_lba: int

    @property
    def size(self) -> int:
        return (self.last_lba - self.first_lba + 1) * SECTOR


def disk_size(path: str) -> int:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def read(path: str) -> list[Partition] | None:
    """The partitions of the primary GPT of `path`, or None when it has no valid one."""
    with open(path, "rb") as f:
        f.seek(SECTOR)
        head = f.read(SECTOR)
        if len(head) < HEADER.size or head[:8] != SIGNATURE:
            return None
        fields = list(HEADER.unpack(head[:HEADER.size]))
        crc = fields[3]
        fields[3] = 0
        if zlib.crc32(HEADER.pack(*fields)) != crc:
            return None
        entries_lba, count, size, entries_crc = fields[10], fields[11], fields[12], fields[13]
        if size < ENTRY.size or count > 4096:
            return None
        f.seek(entries_lba * SECTOR)
        table = f.read(count * size)
    if zlib.crc32(table) != entries_crc:
        return None
    parts = []
    for i in range(count):
        kind, guid, first, last, _attrs, name = ENTRY.unpack(table[i * size:i * size + ENTRY.size])
        if kind == bytes(16):
            continue
        parts.append(Partition(i + 1, str(uuid.UUID(bytes_le=kind)).upper(),
                               str(uuid.UUID(bytes_le=guid)).upper(),
                               name.decode("utf-16-le").rstrip("\0"), first, last))
    return parts


def has_layout(parts: Sequence[Partition] | None) -> bool:
    """True when the partitions are upstream's UEFI layout (labels, order, types)."""
    if parts is None:
        return False
    return [(p.name, p.type_guid) for p in parts] == [(label, kind) for label, kind, _ in LAYOUT]


def plan(size: int) -> list[tuple[str, str, int, int]]:
    """(label, type, first LBA, last LBA) of the layout on a disk of `size` bytes."""
    last_usable = size // SECTOR - 1 - ENTRY_SECTORS - 1
    lba = MIB // SECTOR
    out = []
    for label, kind, nbytes in LAYOUT:
        if nbytes:
            last = lba + nbytes // SECTOR - 1
        else:
            last = (last_usable + 1) // (MIB // SECTOR) * (MIB // SECTOR) - 1
        if last > last_usable or last < lba:
            raise GPTError(f"the disk is too small for upstream's layout: {size // MIB} MiB "
                           f"(partition {label} does not fit)")
        out.append((label, kind, lba, last))
        lba = last + 1
    return out


def write(path: str, disk_guid: str | None = None) -> list[Partition]:
    """Write a new GPT with the layout (protective MBR, primary and backup headers) and
    return its partitions. Nothing else on the disk is touched."""
    size = disk_size(path)
    sectors = size // SECTOR
    parts = []
    table = bytearray(ENTRY_COUNT * ENTRY_SIZE)
    for i, (label, kind, first, last) in enumerate(plan(size)):
        guid = str(uuid.uuid4()).upper()
        ENTRY.pack_into(table, i * ENTRY_SIZE, uuid.UUID(kind).bytes_le,
                        uuid.UUID(guid).bytes_le, first, last, 0,
                        label.encode("utf-16-le").ljust(72, b"\0"))
        parts.append(Partition(i + 1, kind, guid, label, first, last))
    table_crc = zlib.crc32(table)
    disk_id = uuid.UUID(disk_guid) if disk_guid else uuid.uuid4()
    first_usable = 2 + ENTRY_SECTORS
    last_usable = sectors - 1 - ENTRY_SECTORS - 1

    def header(current: int, backup: int, entries_lba: int) -> bytes:
        fields = [SIGNATURE, REVISION, HEADER.size, 0, 0, current, backup, first_usable,
                  last_usable, disk_id.bytes_le, entries_lba, ENTRY_COUNT, ENTRY_SIZE,
                  table_crc]
        fields[3] = zlib.crc32(HEADER.pack(*fields))
        return HEADER.pack(*fields).ljust(SECTOR, b"\0")

    mbr = bytearray(SECTOR)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\x00\x02\x00", 0xEE, b"\xff\xff\xff", 1,
                               min(sectors - 1, 0xFFFFFFFF))
    mbr[510:512] = b"\x55\xaa"
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        os.pwrite(fd, bytes(mbr), 0)
        os.pwrite(fd, header(1, sectors - 1, 2), SECTOR)
        os.pwrite(fd, bytes(table), 2 * SECTOR)
        os.pwrite(fd, bytes(table), (sectors - 1 - ENTRY_SECTORS) * SECTOR)
        os.pwrite(fd, header(sectors - 1, 1, sectors - 1 - ENTRY_SECTORS),
                  (sectors - 1) * SECTOR)
        os.fsync(fd)
    finally:
        os.close(fd)
    return parts
