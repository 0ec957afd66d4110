"""The sandbox node's boot target: two squashfs slots and the boot record under the node's
/boot (the node directory's boot/, mounted read-write by the sandbox launcher), kept by
talos.machinery.bootslots. The launcher ("firmware") reads the record before each boot;
machined writes slots, switches and marks boots good through this class."""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import BinaryIO

from talos.machined.upgrade.target import BootImage, BootState, copy_verified
from talos.machinery import bootslots, constants
from talos.machinery.atomic import fsync_dir
from talos.machinery.errors import InvalidArgument

#: where the launcher mounts the node's boot directory inside the node (TALOS_SANDBOX_BOOT,
#: when set, names it instead: stage 0 and tests outside the node's root)
DEFAULT_BOOT_DIR = constants.SANDBOX_BOOT_MOUNT
CHUNK = 1 << 20


def boot_dir_from_env() -> str:
    return os.environ.get(constants.SANDBOX_ENV_BOOT) or DEFAULT_BOOT_DIR


def booted_slot_from_env() -> str | None:
    """The slot this boot came from: the launcher's TALOS_SANDBOX_IMAGE is
    <boot dir>/<slot>/rootfs.sqsh."""
    image = os.environ.get(constants.SANDBOX_ENV_IMAGE, "")
    slot = os.path.basename(os.path.dirname(image)) if image else ""
    return slot if slot in bootslots.SLOTS else None


def from_env() -> SandboxTarget:
    return SandboxTarget(boot_dir_from_env(), booted=booted_slot_from_env())


class SandboxTarget:
    payload = bootslots.ROOTFS_FILE

    def __init__(self, boot_dir: str | os.PathLike[str], *, booted: str | None = None) -> None:
        self.boot_dir = os.fspath(boot_dir)
        #: the slot this boot runs from (None: the record's default when first read)
        self.booted = booted

    def _record(self) -> bootslots.BootRecord:
        rec = bootslots.load(self.boot_dir)
        if self.booted is None:
            self.booted = rec.default  # read at boot, before anything switched it
        return rec

    def state(self) -> BootState:
        rec = self._record()
        return BootState(
            current=self.booted or rec.default, default=rec.staged or rec.default,
            images={k: BootImage(v.tag, v.digest) for k, v in rec.slots.items()},
            on_trial=rec.on_trial, staged=rec.staged, last_selection=rec.last_selection)

    def slot_to_write(self) -> str:
        return bootslots.slot_to_write(self._record())

    def free_bytes(self, slot: str) -> int:
        path = bootslots.rootfs_path(self.boot_dir, slot)
        st = os.statvfs(self.boot_dir)
        free = st.f_bavail * st.f_frsize
        try:
            free += os.stat(path).st_blocks * 512  # replaced, so freed
        except FileNotFoundError:
            pass
        return free

    def write(self, slot: str, stream: BinaryIO, size: int, image: BootImage) -> None:
        if slot not in bootslots.SLOTS:
            raise InvalidArgument(f"slot {slot!r} is not one of {', '.join(bootslots.SLOTS)}")
        # the only known-good slot is never written, whatever the caller asked
        if slot != bootslots.slot_to_write(self._record()):
            raise InvalidArgument(f"slot {slot} is not the slot an upgrade may write")
        final = bootslots.rootfs_path(self.boot_dir, slot)
        directory = os.path.dirname(final)
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{bootslots.ROOTFS_FILE}.", suffix=".tmp",
                                   dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                copy_verified(stream, out, size, image.digest, self.payload)
            os.chmod(tmp, 0o644)
            os.replace(tmp, final)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        fsync_dir(directory)

    def switch(self, slot: str, image: BootImage, *, stage: bool = False) -> None:
        rec = bootslots.installed(self._record(), slot,
                                  bootslots.SlotImage(image.tag, image.digest), stage=stage)
        bootslots.save(self.boot_dir, rec)

    def rollback(self) -> BootImage:
        rec = bootslots.rolled_back(self._record())
        bootslots.save(self.boot_dir, rec)
        img = rec.image(rec.default)
        return BootImage(img.tag, img.digest)

    def mark_good(self) -> bool:
        rec = self._record()
        if rec.default != self.booted:
            return False  # switched during this boot: the trial is the next boot's
        good = bootslots.mark_good(rec)
        if good == rec:
            return False
        bootslots.save(self.boot_dir, good)
        return True


def copy_digest(path: str) -> str:
    """sha256 of a file, "sha256:<hex>" (for tests and the initial record)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()

