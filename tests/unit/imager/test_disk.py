"""The metal disk image: upstream's UEFI partition layout, reproducible."""

from __future__ import annotations

import json
import subprocess

import pytest

from talos.imager import disk


def test_the_partition_table_is_derived_from_the_seed_only():
    assert disk.sfdisk_script("abc") == disk.sfdisk_script("abc")
    assert disk.sfdisk_script("abc") != disk.sfdisk_script("abd")


@pytest.mark.requires("sfdisk", "mkfs.vfat", "mcopy", "mmd")
def test_the_disk_has_efi_meta_state_ephemeral_and_the_files_on_the_esp(tmp_path):
    boot = tmp_path / "BOOTX64.EFI"
    boot.write_bytes(b"MZ" + b"\0" * 4096)
    out = tmp_path / "disk.raw"
    disk.make(str(out), {"/EFI/BOOT/BOOTX64.EFI": str(boot)}, "seed", 1700000000,
              str(tmp_path))
    table = json.loads(subprocess.run(["sfdisk", "--json", str(out)], capture_output=True,
                                      check=True).stdout)["partitiontable"]
    assert table["label"] == "gpt"
    assert [p["name"] for p in table["partitions"]] == ["EFI", "META", "STATE", "EPHEMERAL"]
    assert table["partitions"][0]["type"] == disk.EFI_TYPE
    esp = f"{out}@@{disk.FIRST}"
    listing = subprocess.run(["mdir", "-i", esp, "-b", "::/EFI/BOOT"], capture_output=True,
                             text=True, check=True,
                             env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"}).stdout
    assert "BOOTX64.EFI" in listing


def test_the_esp_is_upstreams_uki_size_as_the_installer_makes_it():
    """Room for the A and B UKIs of an upgrade on a machine that runs from this disk."""
    from talos.machined.install import gpt
    assert dict((label, mib * disk.MIB) for label, mib in disk.LAYOUT) == {
        label: size for label, _, size in gpt.LAYOUT}
