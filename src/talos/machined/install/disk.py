"""The install: put upstream's UEFI layout on `machine.install.disk`, format STATE and
EPHEMERAL as xfs (as upstream does, with Debian's mkfs.xfs, the one formatting tool the image
ships) and store the node's STATE files (the machine config first of all) on the new STATE.

A disk that already carries the layout (the imager's metal disk image, booted from) keeps
its partitions and its EFI partition (systemd-boot and the UKI); a disk without it gets a
new GPT, but its EFI partition is left unformatted and holds no bootloader yet (unfinished:
the image ships no mkfs.vfat, and the UKI is not copied): such a disk does not boot.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import subprocess

from talos.machined.install import blockdev, gpt
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
        log.info("install: writing upstream's UEFI layout to %s (EFI is left without a "
                 "bootloader: not done yet)", disk)
        try:
            gpt.write(disk)
        except (gpt.GPTError, OSError) as exc:
            raise InstallError(f"cannot partition {disk}: {exc}") from None
        found = blockdev.reread(disk, {label for label, _ in FORMATTED})
    missing = [label for label, _ in FORMATTED if label not in found]
    if missing:
        raise InstallError(f"install: the kernel shows no partition {', '.join(missing)} "
                           f"on {disk}")
    return found


def install(disk: str, state_dir: str, staging: str = "/run/talos/install") -> dict[str, str]:
    """Partition `disk` (when needed), format STATE and EPHEMERAL and copy the files of
    `state_dir` (the tmpfs STATE of maintenance mode) onto the new STATE, each written
    atomically. STATE is unmounted again (the next boot mounts it at /system/state)."""
    found = partition(disk)
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
