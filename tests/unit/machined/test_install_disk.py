"""The install to disk on a disk image file and a loop device: the GPT written in Python is
the one sfdisk reads, a disk carrying the layout keeps its partitions, STATE and EPHEMERAL
are formatted as xfs and found by label, and the STATE files land on the new STATE."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from talos.machined.install import blockdev, disk, gpt
from tests.prerequisites import require, require_root

GIB = 1 << 30


def _sfdisk(path: str) -> dict:
    out = subprocess.run(["sfdisk", "--json", path], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)["partitiontable"]


def test_the_written_gpt_is_upstreams_uefi_layout_as_sfdisk_reads_it(tmp_path):
    require("sfdisk")
    image = str(tmp_path / "disk.raw")
    with open(image, "wb") as f:
        f.truncate(4 * GIB)
    written = gpt.write(image)
    table = _sfdisk(image)
    assert table["label"] == "gpt"
    names = [(p["name"], p["type"], int(p["size"]) * 512) for p in table["partitions"]]
    assert names[:3] == [("EFI", gpt.EFI_SYSTEM, 2101 << 20), ("META", gpt.LINUX_DATA, 1 << 20),
                         ("STATE", gpt.LINUX_DATA, 100 << 20)]
    assert names[3][:2] == ("EPHEMERAL", gpt.LINUX_DATA)
    assert all(int(p["start"]) % 2048 == 0 for p in table["partitions"])
    verify = subprocess.run(["sfdisk", "--verify", image], capture_output=True, text=True)
    assert verify.returncode == 0 and "problem" not in verify.stdout.lower(), verify.stdout
    assert gpt.read(image) == written
    assert gpt.has_layout(written)


def test_a_disk_too_small_for_the_layout_is_refused_naming_its_size(tmp_path):
    image = str(tmp_path / "small.raw")
    with open(image, "wb") as f:
        f.truncate(1 * GIB)
    with pytest.raises(gpt.GPTError, match=r"too small .* 1024 MiB"):
        gpt.write(image)


def test_a_disk_without_gpt_has_no_layout(tmp_path):
    image = str(tmp_path / "blank.raw")
    with open(image, "wb") as f:
        f.truncate(8 << 20)
    assert gpt.read(image) is None
    assert not gpt.has_layout(gpt.read(image))


@contextlib.contextmanager
def _loop(image: str, part: gpt.Partition) -> Iterator[str]:
    """A loop device over one partition of `image` (this machine's loop driver shows no
    partitions of a loop device: max_part=0)."""
    dev = subprocess.run(["losetup", "--find", "--show", "--offset",
                          str(part.first_lba * gpt.SECTOR), "--sizelimit", str(part.size),
                          image], capture_output=True, text=True, check=True).stdout.strip()
    try:
        yield dev
    finally:
        subprocess.run(["losetup", "--detach", dev], check=False)


def test_state_and_ephemeral_are_formatted_as_xfs_and_the_config_stored_on_state(tmp_path):
    require_root()
    require("losetup", "mkfs.xfs")
    image = str(tmp_path / "disk.raw")
    with open(image, "wb") as f:
        f.truncate(3 * GIB)
    parts = {p.name: p for p in gpt.write(image)}
    state = tmp_path / "tmpfs-state"
    state.mkdir()
    (state / "config.yaml").write_text("version: v1alpha1\nmachine: {}\n")
    staging = str(tmp_path / "staging")
    with _loop(image, parts["STATE"]) as st, _loop(image, parts["EPHEMERAL"]) as eph:
        disk.format_and_store({"STATE": st, "EPHEMERAL": eph}, str(state), staging)
        assert blockdev.is_xfs(st) and blockdev.is_xfs(eph)
        assert not os.path.ismount(staging)
        disk.mount(st, staging)
        try:
            with open(os.path.join(staging, "config.yaml")) as f:
                assert f.read() == "version: v1alpha1\nmachine: {}\n"
            assert os.stat(os.path.join(staging, "config.yaml")).st_mode & 0o777 == 0o644
        finally:
            disk.umount(staging)
    with open(image, "rb") as f:  # the label is in the xfs superblock
        f.seek(parts["STATE"].first_lba * gpt.SECTOR + 108)
        assert f.read(12).rstrip(b"\0") == b"STATE"
    assert gpt.read(image) == list(parts.values())  # formatting left the GPT alone


def test_partitions_are_found_by_their_gpt_label_in_sysfs(tmp_path):
    sys_block = tmp_path / "class-block"
    for name, extra in (("vda", "DEVTYPE=disk\n"),
                        ("vda3", "DEVTYPE=partition\nPARTN=3\nPARTNAME=STATE\n"),
                        ("vda4", "DEVTYPE=partition\nPARTN=4\nPARTNAME=EPHEMERAL\n"),
                        ("vdb1", "DEVTYPE=partition\nPARTN=1\nPARTNAME=STATE\n")):
        (sys_block / name).mkdir(parents=True)
        (sys_block / name / "uevent").write_text(f"MAJOR=254\nDEVNAME={name}\n{extra}")
    for name in ("vda3", "vda4"):
        (sys_block / "vda" / name).mkdir()
        (sys_block / "vda" / name / "partition").write_text(name[-1])
        (sys_block / "vda" / name / "uevent").write_text(
            (sys_block / name / "uevent").read_text())
    assert blockdev.find_by_label("STATE", str(sys_block)) == "/dev/vda3"
    assert blockdev.find_by_label("EFI", str(sys_block)) is None
    assert blockdev.partitions("/dev/vda", str(sys_block)) == {"STATE": "/dev/vda3",
                                                              "EPHEMERAL": "/dev/vda4"}


def test_the_install_disk_is_read_from_the_stored_machine_config(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("version: v1alpha1\nmachine:\n  type: controlplane\n  install:\n"
                   "    disk: /dev/vda\n---\napiVersion: v1alpha1\nkind: HostnameConfig\n")
    assert disk.install_disk(str(cfg)) == "/dev/vda"
    cfg.write_text("version: v1alpha1\nmachine:\n  type: worker\n")
    assert disk.install_disk(str(cfg)) is None
    assert disk.install_disk(str(tmp_path / "missing.yaml")) is None
