"""The boot-target interface: what an upgrade, a rollback and the "boot is good" mark need
from the place a node boots from.

Two implementations: `talos.machined.upgrade.sandbox.SandboxTarget` (squashfs slots A/B
and the boot record under /boot) and the metal one (UKI entries on the ESP with
systemd-boot boot counting, in talos.machined.install).

The order an upgrade uses (talos.machined.upgrade.apply):

    target.state()                        what is booted, what is in each slot
    target.slot_to_write()                the inactive slot; refuses the only known-good one
    target.free_bytes(slot)               enough room for the payload?
    target.write(slot, stream, size, image)
                                          temp file, sha256 while writing, fsync, rename:
                                          a digest mismatch leaves the slot as it was
    target.switch(slot, image, stage=...) the next boot (or the one after a stage) tries it
    ... reboot through the node's normal path ...
    target.mark_good()                    once the node runs with its services healthy

All methods are synchronous file I/O: call them off the event loop (asyncio.to_thread).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import BinaryIO, Protocol, runtime_checkable

from talos.machinery.errors import TalosError


class DigestMismatch(TalosError):
    """What was read is not what the image (or its SHA256SUMS) says it is."""

    code = "DATA_LOSS"


#: how much of a payload is read and written at a time
CHUNK = 1 << 20


def copy_verified(stream: BinaryIO, out: BinaryIO, size: int, digest: str,
                  payload: str) -> None:
    """Copy `size` bytes of `stream` to `out` and fsync it; DigestMismatch when fewer bytes
    come or their sha256 is not `digest` ("sha256:<hex>"). The caller writes to a temporary
    file and renames it only after this returns."""
    h = hashlib.sha256()
    written = 0
    while written < size:
        chunk = stream.read(min(CHUNK, size - written))
        if not chunk:
            break
        h.update(chunk)
        out.write(chunk)
        written += len(chunk)
    out.flush()
    os.fsync(out.fileno())
    if written != size:
        raise DigestMismatch(f"{payload}: got {written} bytes, expected {size}")
    got = "sha256:" + h.hexdigest()
    if got != digest:
        raise DigestMismatch(f"{payload}: sha256 is {got}, the image says {digest}")


class NoSpace(TalosError):
    """The boot target has too little room for the new image."""

    code = "RESOURCE_EXHAUSTED"


@dataclass(frozen=True)
class BootImage:
    """An image a slot holds: its version tag and the sha256 ("sha256:<hex>") of the
    payload the target writes (the rootfs squashfs on a sandbox, the UKI on metal)."""

    tag: str
    digest: str


@dataclass(frozen=True)
class BootState:
    """What the target's record says now."""

    #: the slot (entry) booted now
    current: str
    #: the slot the next boot chooses (== current unless an upgrade/rollback switched it)
    default: str
    images: Mapping[str, BootImage] = field(default_factory=lambda: MappingProxyType({}))
    #: the default has not yet been marked good
    on_trial: bool = False
    #: `upgrade --stage`: the slot the next boot switches to
    staged: str | None = None
    #: what the selection of this boot did, "" when nothing noteworthy (an automatic
    #: rollback says so here)
    last_selection: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "images", MappingProxyType(dict(self.images)))

    def current_image(self) -> BootImage | None:
        return self.images.get(self.current)


@runtime_checkable
class BootTarget(Protocol):
    #: the installer asset this target writes (a file name under usr/install/<arch>/)
    payload: str

    def state(self) -> BootState:
        """The record as it is now; NotFound when the node has none (not booted from an
        image: nothing to upgrade)."""
        ...

    def slot_to_write(self) -> str:
        """The inactive slot; FailedPrecondition when it holds the only known-good image."""
        ...

    def free_bytes(self, slot: str) -> int:
        """Room for a new payload in `slot`, counting the space its old image frees."""
        ...

    def write(self, slot: str, stream: BinaryIO, size: int, image: BootImage) -> None:
        """Copy `size` bytes of `stream` into `slot`, checking their sha256 against
        `image.digest` before the slot's file is replaced (DigestMismatch: nothing
        changed). Atomic: temp file, fsync, rename, fsync the directory."""
        ...

    def switch(self, slot: str, image: BootImage, *, stage: bool = False) -> None:
        """Make `slot` (holding `image`) the next boot's default, on trial; `stage`: only
        at the boot after the next one applies the stage (upstream's --stage)."""
        ...

    def rollback(self) -> BootImage:
        """Make the previous image the default again (explicit `talosctl rollback`);
        returns it. FailedPrecondition when there is none."""
        ...

    def mark_good(self) -> bool:
        """The booted default reached a healthy running node; True when this changed the
        record (it was on trial)."""
        ...
