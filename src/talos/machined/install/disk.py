"""The install: put upstream's UEFI layout on `machine.install.disk`, format STATE and
EPHEMERAL as xfs (as upstream does, with Debian's mkfs.xfs, the one formatting tool the image
ships) and store the node's STATE files (the machine config first of all) on the new STATE.

A disk that already carries the layout (the imager's metal disk image, booted from) keeps
its partitions and its EFI partition when that holds systemd-boot and a UKI. Otherwise the
EFI partition is formatted FAT32 (fat32.py: the image ships no mkfs.vfat) and gets
systemd-boot and the UKI as the A entry (esp.py), taken from `BootAssets` when the caller
has them (an installer image) or else from the EFI partition of the boot media the machine
started from (another disk holding `EFI/Linux/Talos-*.efi`). A machine started with
`-kernel` from a blank disk has neither: its disk is installed without a bootloader (a
warning says so) and keeps booting only through `-kernel`.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from talos.machined.install import blockdev, esp, fat32, gpt
from talos.machinery.atomic import write_atomic
from talos.machinery.config import yamlio
from talos.machinery.errors import FailedPrecondition, TalosError

log = logging.getLogger("talos.machined.install")

MKFS_XFS = "/usr/sbin/mkfs.xfs"
#: (label, mount point): the partitions machined formats and mounts
FORMATTED = (("STATE", "/system/state"), ("EPHEMERAL", "/var"))
_libc = ctypes.CDLL(None, use_errno=True)


class InstallError(FailedPrecondition):
    """The install to disk failed; the message names the disk and the step."""


def mkfs_xfs(dev: str, label: str) -> None:
    """Upstream's arguments (pkg/makefs/xfs.go): `-n ftype=1 -f -L <label>`, and
    `--unsupported` because mkfs.xfs 5.19+ refuses filesystems under 300 MB (STATE is 100)."""
    try:
        proc = subprocess.run([MKFS_XFS, "-n", "ftype=1", "-f", "--unsupported", "-L", label,
                               dev], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise InstallError(f"cannot format {dev} ({label}): {MKFS_XFS}: "
                           f"{exc.strerror}") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InstallError(f"cannot format {dev} ({label}): mkfs.xfs: {last}")


def mount(dev: str, target: str, fstype: str = "xfs") -> None:
    os.makedirs(target, exist_ok=True)
    if _libc.mount(dev.encode(), target.encode(), fstype.encode(), ctypes.c_ulong(0),
                   None) != 0:
        err = ctypes.get_errno()
        raise InstallError(f"cannot mount {dev} ({fstype}) at {target}: {os.strerror(err)}")


def umount(target: str) -> None:
    if _libc.umount2(target.encode(), 0) != 0:
        err = ctypes.get_errno()
        raise InstallError(f"cannot unmount {target}: {os.strerror(err)}")


@dataclass(frozen=True)
class BootAssets:
    sd_boot: str  # systemd-boot's EFI binary
    uki: str  # the unified kernel image


#: where the boot media's EFI partition is mounted (read-only) while the install copies it
MEDIA_MOUNT = "/run/talos/install-media"


@contextlib.contextmanager
def boot_media_assets(target_disk: str) -> Iterator[BootAssets | None]:
    """systemd-boot and the booted UKI from the EFI partition of a disk other than
    `target_disk` (the media the machine started from), mounted read-only for the block."""
    target = os.path.realpath(target_disk)
    for dev in blockdev.find_all_by_label("EFI"):
        if blockdev.disk_of(dev) == target:
            continue
        try:
            with esp.mounted(dev, MEDIA_MOUNT, readonly=True) as root:
                found = esp.entries(root)
                if not found or not os.path.exists(os.path.join(root, esp.BOOT_FILES[0])):
                    continue
                sel = esp.selected_entry()
                entry = next((e for e in found if sel and e.stem == esp.stem_of(sel)), None) \
                    or esp.next_boot(found, esp.read_default(root))
                assert entry is not None
                log.info("install: boot assets from %s (%s)", dev, entry.name)
                yield BootAssets(os.path.join(root, esp.BOOT_FILES[0]),
                                 os.path.join(root, esp.LINUX_DIR, entry.name))
                return
        except esp.EspError as exc:
            log.warning("install: %s", exc)
    yield None


def write_esp(dev: str, assets: BootAssets) -> esp.Entry:
    """Format the EFI partition `dev` FAT32 and install systemd-boot and the UKI (A)."""
    try:
        fat32.format_device(dev, label="EFI", hidden_sectors=blockdev.partition_start(dev))
    except (fat32.FatError, OSError) as exc:
        raise InstallError(f"cannot format the EFI partition {dev}: {exc}") from None
    try:
        with esp.mounted(dev) as root:
            entry = esp.install_bootloader(root, assets.sd_boot, assets.uki)
    except (esp.EspError, OSError) as exc:
        raise InstallError(f"cannot install systemd-boot on {dev}: {exc}") from None
    log.info("install: %s: systemd-boot and %s (the A entry, default)", dev, entry.name)
    return entry


def has_bootloader(dev: str) -> bool:
    try:
        with esp.mounted(dev, readonly=True) as root:
            return esp.bootable(root)
    except esp.EspError:
        return False


def install_bootloader(disk: str, found: dict[str, str], assets: BootAssets | None) -> None:
    dev = found.get("EFI")
    if dev is None:
        raise InstallError(f"install: the kernel shows no partition EFI on {disk}")
    if assets is None and has_bootloader(dev):
        log.info("install: %s already holds systemd-boot and a UKI: kept", dev)
        return
    if assets is not None:
        write_esp(dev, assets)
        return
    with boot_media_assets(disk) as media:
        if media is None:
            log.warning("install: no boot media with systemd-boot and a UKI (started with "
                        "-kernel?): %s gets no bootloader and boots only that way", disk)
            return
        write_esp(dev, media)


def partition(disk: str) -> dict[str, str]:
    """{label: /dev path} of the layout's partitions on `disk`, partitioning it first unless
    it carries the layout already."""
    if not os.path.exists(disk):
        raise InstallError(f"machine.install.disk: {disk} does not exist")
    parts = gpt.read(disk)
    if gpt.has_layout(parts):
        log.info("install: %s already has the UEFI layout (EFI, META, STATE, EPHEMERAL)", disk)
        found = blockdev.partitions(disk)
    else:
        log.info("install: writing upstream's UEFI layout to %s", disk)
        try:
            gpt.write(disk)
        except (gpt.GPTError, OSError) as exc:
            raise InstallError(f"cannot partition {disk}: {exc}") from None
        found = blockdev.reread(disk, {"EFI", *(label for label, _ in FORMATTED)})
    missing = [label for label, _ in FORMATTED if label not in found]
    if missing:
        raise InstallError(f"install: the kernel shows no partition {', '.join(missing)} "
                           f"on {disk}")
    return found


def install(disk: str, state_dir: str, staging: str = "/run/talos/install",
            assets: BootAssets | None = None) -> dict[str, str]:
    """Partition `disk` (when needed), make its EFI partition boot (systemd-boot and the
    UKI), format STATE and EPHEMERAL and copy the files of `state_dir` (the tmpfs STATE of
    maintenance mode) onto the new STATE, each written atomically. STATE is unmounted again
    (the next boot mounts it at /system/state)."""
    found = partition(disk)
    install_bootloader(disk, found, assets)
    format_and_store(found, state_dir, staging)
    return found


def format_and_store(found: dict[str, str], state_dir: str, staging: str) -> None:
    """Format the STATE and EPHEMERAL devices of `found` ({label: /dev path}) and store the
    files of `state_dir` on STATE."""
    for label, _ in FORMATTED:
        mkfs_xfs(found[label], label)
        log.info("install: formatted %s (%s) as xfs", found[label], label)
    mount(found["STATE"], staging)
    try:
        copy_tree(state_dir, staging)
    finally:
        os.sync()
        umount(staging)
    log.info("install: STATE files stored on %s", found["STATE"])


def copy_tree(src: str, dst: str) -> None:
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        rel = os.path.relpath(dirpath, src)
        target_dir = os.path.normpath(os.path.join(dst, rel))
        os.makedirs(target_dir, mode=0o700, exist_ok=True)
        shutil.copystat(dirpath, target_dir)
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                data = f.read()
            write_atomic(os.path.join(target_dir, name), data,
                         mode=os.stat(path).st_mode & 0o7777)


def mount_label(label: str, target: str) -> str | None:
    """At boot: mount the partition labelled `label` (on any disk) at `target` when it holds
    xfs (an installed machine); its device, or None (then the caller mounts a tmpfs)."""
    dev = blockdev.find_by_label(label)
    if dev is None or not blockdev.is_xfs(dev):
        return None
    mount(dev, target)
    log.info("%s: mounted %s (%s)", target, dev, label)
    return dev


def install_disk(config_path: str) -> str | None:
    """`machine.install.disk` of the machine config at `config_path`, or None."""
    try:
        with open(config_path, "rb") as f:
            docs, _ = yamlio.parse_all(f.read(), source=config_path)
    except (OSError, TalosError):
        return None
    for doc in (yamlio.to_plain(d) for d in docs):
        if isinstance(doc, dict) and isinstance(doc.get("machine"), dict):
            inst = doc["machine"].get("install")
            if isinstance(inst, dict) and isinstance(inst.get("disk"), str) and inst["disk"]:
                return str(inst["disk"])
    return None
