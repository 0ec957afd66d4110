"""The `metal` raw disk image: GPT with upstream's UEFI layout.

    EFI       2101 MiB  FAT32: systemd-boot as \\EFI\\BOOT\\BOOTX64.EFI, the UKI under
                        \\EFI\\Linux (systemd-boot finds type #2 entries there), loader.conf
    META         1 MiB  left empty (machined's key/value partition)
    STATE      100 MiB  left unformatted: machined formats it when it installs
    EPHEMERAL  the rest left unformatted, likewise

EFI is upstream v1.13.9's UKI size (quirks.PartitionSizes: 100 + 1 + 2000 MiB, the one
machined's installer makes too), so a machine that runs from this disk has room for a
second UKI when it is upgraded (A/B entries under \\EFI\\Linux). The file is sparse: the
disk is 3 GiB, what it stores is its contents.

The ESP is made as a file with mkfs.vfat and filled with mtools (no mount, no root), then
written into the sparse disk file at its offset. Disk and partition UUIDs are derived from
the build's input digest, so the image is reproducible.
"""

from __future__ import annotations

import os
import uuid

from talos.imager import tools

MIB = 1 << 20
SECTOR = 512
EFI_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
LINUX_TYPE = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
#: (label, size in MiB; 0 = the rest of the disk)
LAYOUT = (("EFI", 100 + 1 + 2000), ("META", 1), ("STATE", 100), ("EPHEMERAL", 0))
DISK_SIZE = 3072 * MIB
FIRST = MIB  # 1 MiB alignment, as every partitioner does


def _uuid(seed: str, what: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"talos-py-image:{seed}:{what}")).upper()


def sfdisk_script(seed: str, size: int = DISK_SIZE) -> str:
    lines = ["label: gpt", f"label-id: {_uuid(seed, 'disk')}", "unit: sectors",
             f"first-lba: {FIRST // SECTOR}"]
    start = FIRST // SECTOR
    for label, mib in LAYOUT:
        kind = EFI_TYPE if label == "EFI" else LINUX_TYPE
        size_part = f", size={mib * MIB // SECTOR}" if mib else ""
        lines.append(f"start={start}{size_part}, type={kind}, uuid={_uuid(seed, label)}, "
                     f'name="{label}"')
        start += mib * MIB // SECTOR
    return "\n".join(lines) + "\n"


def esp(out: str, files: dict[str, str], seed: str, epoch: int) -> None:
    """A FAT32 image of the EFI partition holding `files` ({path in the ESP: path here})."""
    env = {"MTOOLS_SKIP_CHECK": "1", "SOURCE_DATE_EPOCH": str(epoch)}
    with open(out, "wb") as f:
        f.truncate(LAYOUT[0][1] * MIB)
    tools.run(["mkfs.vfat", "-F", "32", "-n", "EFI", "-i", _uuid(seed, "esp")[:8],
               "--invariant", out], env=env)
    dirs = sorted({os.path.dirname(p) for p in files} - {"", "/"})
    made: set[str] = set()
    for d in dirs:
        parts = d.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if sub not in made:
                tools.run(["mmd", "-i", out, f"::/{sub}"], env=env)
                made.add(sub)
    for path in sorted(files):
        os.utime(files[path], (epoch, epoch))
        tools.run(["mcopy", "-m", "-i", out, files[path], f"::{path}"], env=env)


def make(out: str, esp_files: dict[str, str], seed: str, epoch: int, workdir: str) -> None:
    esp_img = os.path.join(workdir, "esp.img")
    esp(esp_img, esp_files, seed, epoch)
    with open(out, "wb") as f:
        f.truncate(DISK_SIZE)
    tools.run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", out],
              stdin=sfdisk_script(seed).encode())
    with open(out, "r+b") as disk, open(esp_img, "rb") as part:
        disk.seek(FIRST)
        for block in iter(lambda: part.read(MIB), b""):
            if block.count(0) == len(block):
                disk.seek(len(block), os.SEEK_CUR)  # keep the disk file sparse
            else:
                disk.write(block)
    os.unlink(esp_img)
