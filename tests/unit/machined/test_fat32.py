"""The FAT32 formatter of the install (the node has no mkfs.vfat): dosfstools' fsck.fat
finds nothing wrong with what it writes, mtools reads it, and the kernel's vfat driver
mounts it and takes files."""

from __future__ import annotations

import os
import subprocess

import pytest

from talos.machined.install import fat32

MIB = 1 << 20


def _fsck(path: str) -> subprocess.CompletedProcess:
    return subprocess.run(["fsck.fat", "-n", "-v", path], capture_output=True, text=True,
                          check=False)


@pytest.mark.requires("fsck.fat", "mdir")
@pytest.mark.parametrize("mib", [100, 2101])
def test_formatted_partition_passes_fsck_and_reads_back_its_label(tmp_path, mib):
    img = str(tmp_path / "esp.img")
    with open(img, "wb") as f:
        f.truncate(mib * MIB)
    geo = fat32.format_device(img, label="EFI", volume_id=0x1234ABCD)
    assert geo.clusters >= fat32.MIN_CLUSTERS
    checked = _fsck(img)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"1/{geo.clusters} clusters" in checked.stdout  # the root directory's cluster
    listed = subprocess.run(["mdir", "-i", img, "::/"], capture_output=True, text=True,
                            check=False, env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    assert listed.returncode == 0, listed.stderr
    assert "Volume in drive : is EFI" in listed.stdout
    assert "1234-ABCD" in listed.stdout


def test_too_small_partition_is_refused_with_its_size(tmp_path):
    img = str(tmp_path / "small.img")
    with open(img, "wb") as f:
        f.truncate(16 * MIB)
    with pytest.raises(fat32.FatError, match="16 MiB is too small for FAT32"):
        fat32.format_device(img)


@pytest.mark.requires("fsck.fat", "mmd", "mcopy", "mdir")
def test_formatted_partition_at_an_offset_takes_directories_and_long_names(tmp_path):
    """As on a disk: the file system starts at the partition's offset. (The kernel's vfat
    driver, which the node writes through, is exercised in tests/vm/test_install.py: the
    host kernel here has no vfat.)"""
    disk = str(tmp_path / "disk.raw")
    with open(disk, "wb") as f:
        f.truncate(130 * MIB)
    fat32.format_device(disk, offset=MIB, size=128 * MIB, hidden_sectors=2048)
    part = str(tmp_path / "part.img")
    with open(disk, "rb") as src, open(part, "wb") as dst:
        src.seek(MIB)
        dst.write(src.read(128 * MIB))
    payload = tmp_path / "uki.efi"
    payload.write_bytes(b"x" * 3 * MIB)
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    for argv in (["mmd", "-i", part, "::/EFI"], ["mmd", "-i", part, "::/EFI/Linux"],
                 ["mcopy", "-i", part, str(payload), "::/EFI/Linux/Talos-v1.2.3~B+1.efi"]):
        subprocess.run(argv, check=True, env=env, capture_output=True)
    listed = subprocess.run(["mdir", "-i", part, "::/EFI/Linux"], capture_output=True,
                            text=True, check=True, env=env)
    assert "Talos-v1.2.3~B+1.efi" in listed.stdout
    checked = _fsck(part)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_only_a_formatted_partition_is_taken_for_fat32(tmp_path) -> None:
    """An EFI partition made but never formatted (a VM booted with -kernel) is no boot
    target: the node crashed mounting it at the first boot from its install disk."""
    from talos.machined.install import fat32

    blank = tmp_path / "blank.img"
    blank.write_bytes(bytes(64 << 20))
    assert not fat32.is_fat32(str(blank))
    formatted = tmp_path / "esp.img"
    formatted.write_bytes(bytes(64 << 20))
    fat32.format_device(str(formatted))
    assert fat32.is_fat32(str(formatted))
    assert not fat32.is_fat32(str(tmp_path / "missing"))
