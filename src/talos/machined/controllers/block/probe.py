"""What is on a block device, from its first bytes (blocking: call in a thread).

A small superblock prober in the spirit of blkid: partition tables (`gpt`, `dos`) and the
filesystems Talos nodes meet (`ext4`/`ext3`/`ext2`, `xfs`, `vfat`, `swap`, `iso9660`,
`squashfs`, `luks`), with UUID and label for ext and xfs. Partition entries (GPT names and
types) are not read yet. A device that cannot be opened (no permission: a sandbox or an
unprivileged container) yields an empty result, never an error.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

READ = 64 * 1024


@dataclass(frozen=True)
class Probe:
    name: str = ""
    uuid: str = ""
    label: str = ""
    block_size: int = 0


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def probe_bytes(head: bytes) -> Probe:
    """Recognise a superblock or partition table in the first bytes of a device."""
    if len(head) >= 1024 + 256 and head[1024 + 56:1024 + 58] == b"\x53\xef":
        sb = head[1024:]
        incompat = int.from_bytes(sb[96:100], "little")
        compat = int.from_bytes(sb[92:96], "little")
        name = "ext4" if incompat & 0x40 else ("ext3" if compat & 0x4 else "ext2")
        return Probe(name, str(uuid.UUID(bytes=bytes(sb[104:120]))), _text(sb[120:136]),
                     1024 << int.from_bytes(sb[24:28], "little"))
    if head[:4] == b"XFSB":
        return Probe("xfs", str(uuid.UUID(bytes=bytes(head[32:48]))), _text(head[108:120]),
                     int.from_bytes(head[4:8], "big"))
    if head[:6] == b"LUKS\xba\xbe":
        return Probe("luks", _text(head[168:208]))
    if head[:4] == b"hsqs":
        return Probe("squashfs")
    if len(head) >= 0x8006 and head[0x8001:0x8006] == b"CD001":
        return Probe("iso9660", label=_text(head[0x8028:0x8048]))
    if len(head) >= 1024 and head[512:520] == b"EFI PART":
        return Probe("gpt", str(uuid.UUID(bytes_le=bytes(head[512 + 56:512 + 72]))))
    for page in (4096, 8192, 16384, 65536):
        if len(head) >= page and head[page - 10:page] in (b"SWAPSPACE2", b"SWAP-SPACE"):
            return Probe("swap", str(uuid.UUID(bytes=bytes(head[1024 + 12:1024 + 28]))),
                         _text(head[1024 + 28:1024 + 44]))
    if len(head) >= 512 and head[510:512] == b"\x55\xaa":
        if head[0x52:0x57] == b"FAT32" or head[0x36:0x39] == b"FAT":
            label = _text(head[0x47:0x52]) if head[0x52:0x57] == b"FAT32" else _text(
                head[0x2B:0x36])
            return Probe("vfat", label="" if label == "NO NAME" else label)
        return Probe("dos")
    return Probe()


def probe(path: str) -> Probe:
    try:
        with open(path, "rb") as f:
            return probe_bytes(f.read(READ))
    except OSError:
        return Probe()
