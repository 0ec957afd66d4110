"""BlockDeviceWipe's validation (on a made-up sysfs tree) and its FAST and ZEROES wipes (on
plain files and on loop devices these tests create, detached in a finally). No other device
is ever opened for writing."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from talos.machined.server import blockwipe
from talos.machined.server.blockwipe import Target, Volume, validate
from talos.machinery.errors import FailedPrecondition, InvalidArgument, NotFound
from tests import loop_devices
from tests.loop_devices import signatures
from tests.prerequisites import require

MiB = 1 << 20


# --- validation on a made-up /sys/class/block ------------------------------------------

def _dev(root: Path, name: str, devtype: str, *, parent: str = "", ro: bool = False,
         cdrom: bool = False, slaves: tuple[str, ...] = (), number: int = 0) -> None:
    """/sys/class/block/<name> as the kernel lays it out (a partition is a subdirectory of
    its disk, linked from the class directory)."""
    real = root / "devices" / (f"{parent}/{name}" if parent else name)
    real.mkdir(parents=True)
    (real / "uevent").write_text(f"MAJOR=7\nMINOR=0\nDEVNAME={name}\nDEVTYPE={devtype}\n")
    (real / "ro").write_text("1\n" if ro else "0\n")
    if number:
        (real / "partition").write_text(f"{number}\n")
    (real / "device").mkdir()
    (real / "device" / "type").write_text("5\n" if cdrom else "0\n")
    (real / "slaves").mkdir()
    for s in slaves:
        (real / "slaves" / s).mkdir()
    (root / "class").mkdir(exist_ok=True)
    (root / "class" / name).symlink_to(real)


@pytest.fixture
def sysfs(tmp_path: Path) -> str:
    _dev(tmp_path, "sda", "disk")
    _dev(tmp_path, "sda1", "partition", parent="sda", number=1)
    _dev(tmp_path, "sda2", "partition", parent="sda", number=2)
    _dev(tmp_path, "sdb", "disk", ro=True)
    _dev(tmp_path, "sr0", "disk", cdrom=True)
    _dev(tmp_path, "sdc", "disk")
    _dev(tmp_path, "sdd", "disk")
    _dev(tmp_path, "md0", "disk", slaves=("sdc", "sda2"))
    _dev(tmp_path, "ram0", "ramdisk")
    return str(tmp_path / "class")


def test_a_disk_and_a_partition_resolve_to_their_targets(sysfs: str) -> None:
    assert validate("sdd", [], sys_class_block=sysfs) == Target("sdd")
    assert validate("sda1", [], sys_class_block=sysfs) == Target("sda1", "sda", 1)


@pytest.mark.parametrize("name", ["sdz", "", "..", "sda/../sdd", "sda1/.."])
def test_an_unknown_device_is_not_found_by_its_name(sysfs: str, name: str) -> None:
    with pytest.raises(NotFound, match=f'^blockdevice "{name}" not found$'):
        validate(name, [], sys_class_block=sysfs)


def test_a_device_of_another_type_is_an_invalid_argument(sysfs: str) -> None:
    with pytest.raises(InvalidArgument,
                       match=r'^blockdevice "ram0" is of unsupported type "ramdisk"$'):
        validate("ram0", [], sys_class_block=sysfs)


def test_a_read_only_disk_and_a_cdrom_are_refused(sysfs: str) -> None:
    with pytest.raises(FailedPrecondition, match=r'^blockdevice "sdb" is read-only$'):
        validate("sdb", [], sys_class_block=sysfs)
    with pytest.raises(FailedPrecondition, match=r'^blockdevice "sr0" is a CD-ROM$'):
        validate("sr0", [], sys_class_block=sysfs)


def test_a_device_something_is_built_on_is_refused_unless_the_check_is_skipped(
        sysfs: str) -> None:
    with pytest.raises(FailedPrecondition, match=r'^blockdevice "sdc" is in use by disk "md0"$'):
        validate("sdc", [], sys_class_block=sysfs)
    with pytest.raises(FailedPrecondition,
                       match=r'^blockdevice "sda2" is in use by blockdevice "md0"$'):
        validate("sda2", [], sys_class_block=sysfs)
    assert validate("sdc", [], skip_secondary_check=True, sys_class_block=sysfs).name == "sdc"


def test_a_device_a_volume_lives_on_is_refused_unless_the_check_is_skipped(
        sysfs: str) -> None:
    state = Volume("STATE", location="/dev/sda1", parent_location="/dev/sda")
    with pytest.raises(FailedPrecondition,
                       match=r'^blockdevice "sda1" is in use by volume "STATE"$'):
        validate("sda1", [state], sys_class_block=sysfs)
    with pytest.raises(FailedPrecondition,
                       match=r'^blockdevice "sda" is in use by volume "STATE"$'):
        validate("sda", [state], sys_class_block=sysfs)
    with pytest.raises(FailedPrecondition,  # a partition on the volume's disk: its parent
                       match=r'^blockdevice "sda" is in use by volume "EPHEMERAL"$'):
        validate("sda2", [Volume("EPHEMERAL", location="/dev/sda")],
                 skip_secondary_check=True, sys_class_block=sysfs)
    assert validate("sda1", [state], skip_volume_check=True, sys_class_block=sysfs).name \
        == "sda1"
    assert validate("sdd", [state], sys_class_block=sysfs).name == "sdd"


def test_an_unknown_method_is_refused_before_the_device_is_opened(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r'^unsupported wipe method 3$'):
        blockwipe.wipe(Target("nothing-here"), "3", dev=str(tmp_path))


# --- the wipes, on a plain file ---------------------------------------------------------

def _fast_wipe_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        blockwipe.fast_wipe(fd, blockwipe.signature_ranges(str(path)))
    finally:
        os.close(fd)


def test_fast_wipe_of_a_file_clears_a_gpt_and_its_backup(tmp_path: Path) -> None:
    require("sgdisk", "blkid")
    img = tmp_path / "disk.img"
    with img.open("wb") as f:
        f.truncate(16 * MiB)
    subprocess.run(["sgdisk", "-n", "1:2048:+4M", str(img)], check=True, capture_output=True)
    assert 'PTTYPE="gpt"' in signatures(img)
    _fast_wipe_file(img)
    assert signatures(img) == ""
    data = img.read_bytes()
    assert data[:MiB] == bytes(MiB) and data[-MiB:] == bytes(MiB)  # the backup GPT too


def test_fast_wipe_of_a_file_clears_a_filesystem_and_leaves_the_middle(tmp_path: Path) -> None:
    require("mkfs.ext4", "blkid")
    img = tmp_path / "fs.img"
    with img.open("wb") as f:
        f.truncate(16 * MiB)
    subprocess.run(["mkfs.ext4", "-q", str(img)], check=True, capture_output=True)
    with img.open("r+b") as f:
        f.seek(8 * MiB)
        f.write(b"payload")
    assert 'TYPE="ext4"' in signatures(img)
    _fast_wipe_file(img)
    assert signatures(img) == ""
    assert img.read_bytes()[8 * MiB:8 * MiB + 7] == b"payload"  # FAST is not ZEROES


def test_a_signature_beyond_the_first_and_last_mib_is_zeroed(tmp_path: Path) -> None:
    img = tmp_path / "file.img"
    with img.open("wb") as f:
        f.truncate(8 * MiB)
        f.seek(4 * MiB)
        f.write(b"\xff" * 16)
    fd = os.open(img, os.O_RDWR)
    try:
        blockwipe.fast_wipe(fd, [(4 * MiB + 4, 8)])
    finally:
        os.close(fd)
    assert img.read_bytes()[4 * MiB:4 * MiB + 16] == b"\xff" * 4 + bytes(8) + b"\xff" * 4


# --- the wipes, on loop devices this test made ------------------------------------------

@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    require("root", "losetup", "blkid", "mkfs.ext4", "mount", "umount")
    with loop_devices.loop_device(tmp_path) as dev:
        yield dev


def test_fast_wipe_clears_a_loop_devices_filesystem(loop_device: tuple[str, Path]) -> None:
    name, _ = loop_device
    subprocess.run(["mkfs.ext4", "-q", f"/dev/{name}"], check=True, capture_output=True)
    assert 'TYPE="ext4"' in signatures(f"/dev/{name}")
    blockwipe.wipe(validate(name, []), "FAST")
    assert signatures(f"/dev/{name}") == ""


def test_zeroes_wipe_zeroes_a_whole_loop_device(loop_device: tuple[str, Path]) -> None:
    name, _ = loop_device
    with open(f"/dev/{name}", "r+b") as f:
        f.seek(8 * MiB)
        f.write(b"payload")
    blockwipe.wipe(validate(name, []), "ZEROES")
    with open(f"/dev/{name}", "rb") as f:
        assert f.read() == bytes(16 * MiB)


def test_a_mounted_loop_device_is_refused_and_left_intact(
        loop_device: tuple[str, Path], tmp_path: Path) -> None:
    name, _ = loop_device
    subprocess.run(["mkfs.ext4", "-q", f"/dev/{name}"], check=True, capture_output=True)
    target = tmp_path / "mnt"
    target.mkdir()
    subprocess.run(["mount", f"/dev/{name}", str(target)], check=True)
    try:
        with pytest.raises(FailedPrecondition,
                           match=f'^block device "{name}" is mounted or in use$'):
            blockwipe.wipe(validate(name, []), "FAST")
    finally:
        subprocess.run(["umount", str(target)], check=True)
    assert 'TYPE="ext4"' in signatures(f"/dev/{name}")


# --- the servicer on a sandbox node ----------------------------------------------------

class _SandboxNode:
    sandbox = True
    hostname = "sandbox-node"


class _PlainNode:
    sandbox = False
    hostname = "plain-node"


def _touch_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"touched: {args}")
    for fn in ("validate", "resolve", "wipe", "open_exclusive", "signature_ranges"):
        monkeypatch.setattr(blockwipe, fn, forbidden)
    monkeypatch.setattr(os, "open", forbidden)


async def test_a_sandbox_node_refuses_before_opening_or_reading_anything(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from talos.api.storage import storage_pb2 as st
    from talos.machined.server.storage import StorageServicer

    _touch_nothing(monkeypatch)
    servicer = StorageServicer(_SandboxNode())  # type: ignore[arg-type]
    req = st.BlockDeviceWipeRequest(devices=[st.BlockDeviceWipeDescriptor(device="sda")])
    with pytest.raises(FailedPrecondition) as e:
        await servicer.BlockDeviceWipe(req, None)  # type: ignore[arg-type]
    assert str(e.value) == "wiping block devices is not supported in container mode"
    assert e.value.code == "FAILED_PRECONDITION"


async def test_maintenance_mode_off_metal_refuses_before_touching_anything(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain-mode node's maintenance API has unauthenticated clients and the host's disks."""
    from talos.api.storage import storage_pb2 as st
    from talos.machined.server.storage import StorageServicer

    _touch_nothing(monkeypatch)
    servicer = StorageServicer(_PlainNode(), maintenance=True)  # type: ignore[arg-type]
    req = st.BlockDeviceWipeRequest(devices=[st.BlockDeviceWipeDescriptor(device="sda")])
    with pytest.raises(FailedPrecondition, match="only on a metal node"):
        await servicer.BlockDeviceWipe(req, None)  # type: ignore[arg-type]
