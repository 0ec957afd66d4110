"""The metal/VM boot target: UKI entries A and B on the ESP with systemd-boot's boot
counting (talos.machined.install.esp describes the names and the rules).

- write(slot): the new UKI as `Talos-<tag>~<slot>.efi` (temp name, sha256, fsync, rename);
  the slot's older file goes once the new one is in place.
- switch(slot): the entry gets one try (`+1`, bootslots.TRIAL_TRIES) and loader.conf names
  it as the default; systemd-boot counts the try down before it starts it.
- mark_good(): blesses the booted entry (renamed without its counter) and names it the
  default; after an automatic fallback it names the booted (old) entry the default.
- rollback(): loader.conf names the other entry (refused when it failed its trial).
- `stage`: the same as a switch here (systemd-boot picks the entry at the next boot); the
  record keeps `staged` until a boot is marked good.

The ESP is mounted only while the target reads or writes it (`EspAccess.open`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import BinaryIO

from talos.machined.install import blockdev, esp, fat32
from talos.machined.upgrade.target import BootImage, BootState, copy_verified
from talos.machinery import bootslots
from talos.machinery.errors import FailedPrecondition, InvalidArgument, NotFound


class EspAccess:
    """How the target reaches the ESP: `open()` yields its root directory (mounted for the
    block on a machine; a plain directory in tests and offline tools), `selected()` the id
    of the entry systemd-boot started this boot (None when unknown)."""

    def __init__(self, device: str | None = None, directory: str | None = None,
                 selected: Callable[[], str | None] = esp.selected_entry) -> None:
        self.device = device
        self.directory = directory
        self.selected = selected

    @contextlib.contextmanager
    def open(self) -> Iterator[str]:
        if self.directory is not None:
            yield self.directory
            return
        if self.device is None:
            raise NotFound("no EFI partition: the machine is not installed to a disk")
        with esp.mounted(self.device) as root:
            yield root


def _slot_of(e: esp.Entry | None) -> str:
    return e.slot if e is not None else "A"


class MetalTarget:
    payload = "talos.efi"  # talos.imager.build.INSTALLER_UKI

    def __init__(self, access: EspAccess) -> None:
        self.access = access

    # --- reading -------------------------------------------------------------------
    def _view(self, root: str) -> tuple[list[esp.Entry], str | None, esp.Entry | None,
                                        esp.Entry | None, dict[str, object]]:
        all_entries = esp.entries(root)
        if not all_entries:
            raise NotFound("the EFI partition holds no Talos UKI entry (EFI/Linux/Talos-*.efi)")
        pattern = esp.read_default(root)
        nxt = esp.next_boot(all_entries, pattern)
        sel = self.access.selected()
        booted = None
        if sel:
            booted = next((e for e in all_entries if e.stem == esp.stem_of(sel)), None)
        if booted is None:  # unknown: assume the default booted (what it would pick now)
            named = next((e for e in all_entries if pattern and e.stem == esp.stem_of(pattern)),
                         None)
            booted = named if named is not None and not named.bad else nxt
        return all_entries, pattern, booted, nxt, esp.read_slots(root)

    def state(self) -> BootState:
        with self.access.open() as root:
            all_entries, pattern, booted, nxt, record = self._view(root)
        images: dict[str, BootImage] = {}
        for e in all_entries:
            info = record.get(e.slot)
            # the record names what machined wrote; a file put there otherwise wins
            if isinstance(info, dict) and esp.entry_name(str(info.get("tag", "")),
                                                         e.slot) == esp.entry_name(e.tag,
                                                                                   e.slot):
                images[e.slot] = BootImage(str(info["tag"]), str(info.get("digest", "")))
            else:
                images[e.slot] = BootImage(e.tag, "")
        named = next((e for e in all_entries if pattern and e.stem == esp.stem_of(pattern)),
                     None)
        note = ""
        if named is not None and booted is not None and named.slot != booted.slot and named.bad:
            note = (f"slot {named.slot} ({images[named.slot].tag}) did not reach a healthy "
                    f"running node: systemd-boot fell back to slot {booted.slot} "
                    f"({images[booted.slot].tag})")
        default: esp.Entry | None
        if booted is not None and booted.counting:
            # a trial boot in progress: it stays the default once it is marked good
            default, on_trial = booted, True
        else:
            default = nxt if nxt is not None else booted
            on_trial = bool(default is not None and default.counting and not default.bad)
        staged = record.get("staged")
        return BootState(current=_slot_of(booted), default=_slot_of(default), images=images,
                         on_trial=on_trial, staged=staged if isinstance(staged, str) else None,
                         last_selection=note)

    def slot_to_write(self) -> str:
        state = self.state()
        target = bootslots.other(state.default)
        if state.on_trial:
            raise FailedPrecondition(
                f"slot {target} holds the only known-good image while slot {state.default} "
                "is on trial: finish that boot (or roll back) before upgrading again")
        return target

    def free_bytes(self, slot: str) -> int:
        with self.access.open() as root:
            st = os.statvfs(root)
            free = st.f_bavail * st.f_frsize
            for e in esp.entries(root):
                if e.slot == slot:
                    free += os.stat(os.path.join(root, esp.LINUX_DIR, e.name)).st_size
        return free

    # --- writing -------------------------------------------------------------------
    def write(self, slot: str, stream: BinaryIO, size: int, image: BootImage) -> None:
        if slot not in esp.SLOTS:
            raise InvalidArgument(f"slot {slot!r} is not one of {', '.join(esp.SLOTS)}")
        if slot != self.slot_to_write():
            raise InvalidArgument(f"slot {slot} is not the slot an upgrade may write")
        with self.access.open() as root:
            linux = os.path.join(root, esp.LINUX_DIR)
            os.makedirs(linux, exist_ok=True)
            tmp = os.path.join(linux, f".talos-{slot}.tmp")  # not *.efi: systemd-boot skips it
            try:
                with open(tmp, "wb") as out:
                    copy_verified(stream, out, size, image.digest, self.payload)
                old = [e for e in esp.entries(root) if e.slot == slot]
                final = esp.entry_name(image.tag, slot)
                for e in old:
                    if e.name != final:
                        os.unlink(os.path.join(linux, e.name))
                os.replace(tmp, os.path.join(linux, final))
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            record = esp.read_slots(root)
            record[slot] = {"tag": image.tag, "digest": image.digest}
            esp.write_slots(root, record)

    def switch(self, slot: str, image: BootImage, *, stage: bool = False) -> None:
        with self.access.open() as root:
            entry = next((e for e in esp.entries(root) if e.slot == slot), None)
            if entry is None:
                raise FailedPrecondition(f"slot {slot} holds no UKI: write it first")
            trial = esp.entry_name(entry.tag, slot, bootslots.TRIAL_TRIES)
            linux = os.path.join(root, esp.LINUX_DIR)
            if entry.name != trial:
                os.rename(os.path.join(linux, entry.name), os.path.join(linux, trial))
            esp.write_loader_conf(root, trial)
            record = esp.read_slots(root)
            record[slot] = {"tag": image.tag, "digest": image.digest}
            record["staged"] = slot if stage else None
            esp.write_slots(root, record)

    def rollback(self) -> BootImage:
        target = bootslots.other(self.state().default)
        with self.access.open() as root:
            all_entries, _, _, _, record = self._view(root)
            entry = next((e for e in all_entries if e.slot == target), None)
            if entry is None:
                raise FailedPrecondition("there is no previous image to roll back to "
                                         f"(slot {target} is empty)")
            if entry.bad:
                raise FailedPrecondition(f"slot {target} did not reach a healthy running "
                                         "node when it was tried: not rolling back to it")
            esp.write_loader_conf(root, entry.name)
            record["staged"] = None
            esp.write_slots(root, record)
            info = record.get(target)
        if isinstance(info, dict):
            return BootImage(str(info.get("tag", entry.tag)), str(info.get("digest", "")))
        return BootImage(entry.tag, "")

    def mark_good(self) -> bool:
        with self.access.open() as root:
            _, pattern, booted, _, record = self._view(root)
            if booted is None:
                return False
            changed = False
            name = booted.name
            if booted.counting:
                name = esp.entry_name(booted.tag, booted.slot)
                linux = os.path.join(root, esp.LINUX_DIR)
                os.rename(os.path.join(linux, booted.name), os.path.join(linux, name))
                changed = True
            if pattern != name.lower():
                esp.write_loader_conf(root, name)
                changed = True
            if record.get("staged") is not None:
                record["staged"] = None
                esp.write_slots(root, record)
        return changed


def boot_esp_device() -> str | None:
    """The EFI partition of the disk whose STATE is mounted at /system/state (an installed
    machine); None in maintenance mode (STATE is a tmpfs): the boot media's ESP is never
    written."""
    try:
        with open("/proc/self/mounts") as f:
            state_dev = next((line.split()[0] for line in f
                              if line.split()[1:2] == ["/system/state"]), None)
    except OSError:
        state_dev = None
    if state_dev and state_dev.startswith("/dev/"):
        disk = blockdev.disk_of(state_dev)
        if disk is not None:
            dev = blockdev.partitions(disk).get("EFI")
            if dev is not None:
                return dev
    return None


def detect() -> MetalTarget | None:
    """The metal target when machined runs a machine booted from the image (`--metal`) and
    the boot disk has an EFI partition; None otherwise (the caller uses the sandbox one)."""
    from talos.machined.platform import metal

    if not metal.active():
        return None
    dev = boot_esp_device()
    # an EFI partition never formatted (a VM booted with -kernel has no systemd-boot or UKI
    # to install there) is no boot target: mounting it fails, and nothing boots from it
    if dev is None or not fat32.is_fat32(dev):
        return None
    return MetalTarget(EspAccess(device=dev))
