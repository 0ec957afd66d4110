"""A node's boot slots: two places (A and B) for a root filesystem image, which one boots
next, which one to fall back to, and boot counting.

This is the sandbox platform's equivalent of systemd-boot's loader entries with boot
counting (`+TRIES` in the entry's file name, see systemd's "Automatic Boot Assessment"):
an upgrade writes the new image to the slot that is not booted, makes it the default with
`TRIAL_TRIES` tries left and keeps the old one as the fallback. Each boot of a slot on
trial uses up one try; a boot that reaches a healthy running node is marked good (the
tries are dropped). When a slot on trial is chosen with no try left, the fallback boots
instead and the record says why. `rollback` switches back explicitly.

The slot that is the only known-good one is never written to (`slot_to_write` refuses).

The record is one JSON file next to the slots, written atomically:

    <boot dir>/boot.json
    <boot dir>/A/rootfs.sqsh
    <boot dir>/B/rootfs.sqsh

Readers: the sandbox launcher (chooses the slot before each boot), machined (marks the boot
good, writes a slot on upgrade, switches on rollback). Everything here is pure data and
file I/O, no processes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from talos.machinery.atomic import write_atomic
from talos.machinery.errors import FailedPrecondition, InvalidArgument, NotFound

SLOTS = ("A", "B")
RECORD_FILE = "boot.json"
ROOTFS_FILE = "rootfs.sqsh"
#: boots a newly installed slot gets to reach a healthy running node before the fallback
TRIAL_TRIES = 1


@dataclass(frozen=True)
class SlotImage:
    """What a slot holds: the version tag of its image and the sha256 of its rootfs."""

    tag: str
    digest: str  # "sha256:<hex>" of ROOTFS_FILE

    def describe(self) -> str:
        return f"{self.tag} ({self.digest[:19]})"


@dataclass(frozen=True)
class BootRecord:
    default: str
    slots: Mapping[str, SlotImage] = field(default_factory=lambda: MappingProxyType({}))
    #: the slot to boot when `default` is on trial and fails
    fallback: str | None = None
    #: None: `default` is known good; an int: boots left on trial before the fallback
    tries_left: int | None = None
    #: `upgrade --stage`: this slot becomes the default (on trial) at the next boot
    staged: str | None = None
    #: what the last slot selection did, for the node's log and events ("" when nothing)
    last_selection: str = ""

    def __post_init__(self) -> None:
        for slot in (self.default, self.fallback, self.staged):
            if slot is not None and slot not in SLOTS:
                raise InvalidArgument(f"boot record: slot {slot!r} is not one of "
                                      f"{', '.join(SLOTS)}")
        object.__setattr__(self, "slots", MappingProxyType(dict(self.slots)))

    @property
    def on_trial(self) -> bool:
        return self.tries_left is not None

    def image(self, slot: str) -> SlotImage:
        try:
            return self.slots[slot]
        except KeyError:
            raise NotFound(f"boot slot {slot} holds no image") from None

    def known_good(self) -> tuple[str, ...]:
        """Slots known to boot: the fallback always, the default unless on trial."""
        good = [s for s in (self.fallback,) if s is not None and s in self.slots]
        if not self.on_trial and self.default in self.slots:
            good.insert(0, self.default)
        return tuple(good)

    # -- JSON ---------------------------------------------------------------------------

    def to_json(self) -> bytes:
        doc = {"default": self.default, "fallback": self.fallback,
               "tries_left": self.tries_left, "staged": self.staged,
               "last_selection": self.last_selection,
               "slots": {k: {"tag": v.tag, "digest": v.digest}
                         for k, v in sorted(self.slots.items())}}
        return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> BootRecord:
        try:
            doc = json.loads(data)
            slots = {k: SlotImage(tag=str(v["tag"]), digest=str(v["digest"]))
                     for k, v in dict(doc.get("slots") or {}).items()}
            tries = doc.get("tries_left")
            return cls(default=str(doc["default"]), slots=slots,
                       fallback=doc.get("fallback"),
                       tries_left=None if tries is None else int(tries),
                       staged=doc.get("staged"),
                       last_selection=str(doc.get("last_selection") or ""))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidArgument(f"boot record {RECORD_FILE} is not valid: {exc}") from None


def other(slot: str) -> str:
    return SLOTS[1] if slot == SLOTS[0] else SLOTS[0]


def rootfs_path(boot_dir: str | os.PathLike[str], slot: str) -> str:
    return os.path.join(os.fspath(boot_dir), slot, ROOTFS_FILE)


def load(boot_dir: str | os.PathLike[str]) -> BootRecord:
    path = os.path.join(os.fspath(boot_dir), RECORD_FILE)
    try:
        with open(path, "rb") as f:
            return BootRecord.from_json(f.read())
    except FileNotFoundError:
        raise NotFound(f"no boot record at {path}") from None


def save(boot_dir: str | os.PathLike[str], record: BootRecord) -> None:
    write_atomic(os.path.join(os.fspath(boot_dir), RECORD_FILE), record.to_json(), mode=0o644)


def initial(slot_image: SlotImage, slot: str = SLOTS[0]) -> BootRecord:
    """The record of a freshly made node: one known-good slot."""
    return BootRecord(default=slot, slots={slot: slot_image})


def select(record: BootRecord) -> tuple[str, BootRecord]:
    """Choose the slot to boot now; returns it and the record to save before booting.

    A staged slot goes on trial; a slot on trial with no try left gives way to the fallback
    (the record's `last_selection` says so); otherwise a try is used up."""
    if record.staged is not None:
        record = replace(record, default=record.staged, fallback=record.default,
                         tries_left=TRIAL_TRIES, staged=None)
    if record.tries_left is None:
        return record.default, replace(record, last_selection="")
    if record.tries_left <= 0:
        if record.fallback is None or record.fallback not in record.slots:
            # nothing to fall back to: keep trying the only image there is
            return record.default, replace(record, tries_left=None, last_selection=(
                f"slot {record.default} did not reach a healthy running node and there is "
                "no fallback: booting it again"))
        failed = record.default
        note = (f"slot {failed} ({record.slots[failed].tag if failed in record.slots else '?'})"
                " did not reach a healthy running node: falling back to slot "
                f"{record.fallback} ({record.slots[record.fallback].tag})")
        return record.fallback, replace(record, default=record.fallback, fallback=failed,
                                        tries_left=None, last_selection=note)
    return record.default, replace(record, tries_left=record.tries_left - 1,
                                   last_selection="")


def mark_good(record: BootRecord) -> BootRecord:
    """The booted default reached a healthy running node: it is known good from now on."""
    if record.tries_left is None:
        return record
    return replace(record, tries_left=None)


def slot_to_write(record: BootRecord) -> str:
    """The slot an upgrade may overwrite: the one not booted by default, unless it is the
    only known-good image (the default is still on trial)."""
    target = other(record.default)
    if record.on_trial and record.fallback == target:
        raise FailedPrecondition(
            f"slot {target} holds the only known-good image while slot {record.default} "
            "is on trial: finish that boot (or roll back) before upgrading again")
    return target


def installed(record: BootRecord, slot: str, image: SlotImage, *,
              stage: bool = False) -> BootRecord:
    """Record `image` written to `slot`: the next boot tries it (now, or when `stage`d, at
    the next boot after the one that applies the stage)."""
    slots = dict(record.slots)
    slots[slot] = image
    if stage:
        return replace(record, slots=slots, staged=slot)
    return replace(record, slots=slots, default=slot, fallback=record.default,
                   tries_left=TRIAL_TRIES, staged=None)


def rolled_back(record: BootRecord) -> BootRecord:
    """Switch the default back to the other slot explicitly (`talosctl rollback`)."""
    target = record.fallback if record.fallback is not None else other(record.default)
    if target not in record.slots:
        raise FailedPrecondition("there is no previous image to roll back to "
                                 f"(slot {target} is empty)")
    return replace(record, default=target, fallback=record.default, tries_left=None,
                   staged=None, last_selection="")
