"""The EFI system partition of an installed machine: systemd-boot, its loader.conf and the
UKI entries (boot loader specification type #2, `EFI/Linux/*.efi`), named and counted as
systemd's "Automatic Boot Assessment" describes.

Layout (upstream Talos v1.13.9 sdboot: `EFI/boot/BOOTX64.efi`, `EFI/Linux/Talos-<ver>.efi`,
`loader/loader.conf`; plus systemd's own path for the loader):

    EFI/BOOT/BOOTX64.EFI            systemd-boot (what the firmware starts)
    EFI/systemd/systemd-bootx64.efi systemd-boot again (bootctl's place for it)
    EFI/Linux/Talos-<tag>[~<slot>][+LEFT[-DONE]].efi
                                    one UKI per slot (A, B); no `~slot` means A
    loader/loader.conf              `timeout 0`, `default <entry id>`
    loader/talos-slots.json         tag and sha256 of each slot's UKI (ours)

Entry ids are the file names in lower case, as systemd-boot makes them. An upgrade writes
the new UKI as `…~B+1.efi` and names it exactly as the default. systemd-boot renames the
entry to `…~B+0-1.efi` before it starts it; from then on the default names nothing, so
the next boot takes the first entry in systemd-boot's order, which puts entries with no
tries left last: the old, good one. Blessing renames the entry without its counter and
names that as the default. Upstream Talos sets the LoaderEntryDefault EFI variable instead
and has no boot counting; a variable set by another installer would win over loader.conf.

The entry systemd-boot started is read from its LoaderEntrySelected EFI variable
(efivarfs at /sys/firmware/efi/efivars).
"""

from __future__ import annotations

import contextlib
import ctypes
import fnmatch
import json
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from talos.machinery.atomic import write_atomic
from talos.machinery.errors import FailedPrecondition

LOADER_CONF = "loader/loader.conf"
SLOTS_RECORD = "loader/talos-slots.json"
LINUX_DIR = "EFI/Linux"
BOOT_FILES = ("EFI/BOOT/BOOTX64.EFI", "EFI/systemd/systemd-bootx64.efi")
SLOTS = ("A", "B")
#: where machined mounts the ESP while it writes (a tmpfs: the root is read-only)
MOUNT_POINT = "/run/talos/efi"
#: vfat's defaults want nls modules the image does not load; these two it does
MOUNT_OPTIONS = "codepage=437,iocharset=iso8859-1"
EFIVARS = "/sys/firmware/efi/efivars"
LOADER_GUID = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

_ENTRY = re.compile(r"^talos-(?P<tag>.+?)(?:~(?P<slot>[ab]))?"
                    r"(?:\+(?P<left>\d+)(?:-(?P<done>\d+))?)?\.efi$", re.IGNORECASE)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class EspError(FailedPrecondition):
    """The ESP cannot be mounted, read or written (the message names it)."""


@dataclass(frozen=True)
class Entry:
    name: str  # the file name under EFI/Linux
    tag: str  # as written in the name (sanitized)
    slot: str
    left: int | None  # tries left; None: not counted (good)
    done: int | None

    @property
    def id(self) -> str:
        return self.name.lower()

    @property
    def stem(self) -> str:
        """The name without the counter (what stays the same across systemd-boot's renames)."""
        return entry_name(self.tag, self.slot).lower()

    @property
    def bad(self) -> bool:
        return self.left == 0

    @property
    def counting(self) -> bool:
        return self.left is not None


def entry_name(tag: str, slot: str, tries: int | None = None) -> str:
    safe = _UNSAFE.sub("_", tag) or "unknown"
    slot_part = "" if slot == "A" else f"~{slot}"
    counter = "" if tries is None else f"+{tries}"
    return f"Talos-{safe}{slot_part}{counter}.efi"


def parse_entry(name: str) -> Entry | None:
    m = _ENTRY.match(name)
    if m is None:
        return None
    left, done = m.group("left"), m.group("done")
    return Entry(name, m.group("tag"), (m.group("slot") or "a").upper(),
                 int(left) if left is not None else None,
                 int(done) if done is not None else None)


def stem_of(entry_id: str) -> str:
    """An entry id without its counter ("talos-v2~b+0-1.efi" -> "talos-v2~b.efi")."""
    e = parse_entry(entry_id)
    return e.stem if e is not None else entry_id.lower()


def entries(root: str) -> list[Entry]:
    try:
        names = sorted(os.listdir(os.path.join(root, LINUX_DIR)))
    except FileNotFoundError:
        return []
    return [e for e in map(parse_entry, names) if e is not None]


def read_default(root: str) -> str | None:
    """The `default` pattern of loader.conf (lower case, as systemd-boot compares it)."""
    try:
        with open(os.path.join(root, LOADER_CONF), encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return None
    value = None
    for line in lines:
        key, _, rest = line.strip().partition(" ")
        if key == "default" and rest.strip():
            value = rest.strip().lower()
    return value


def write_loader_conf(root: str, default: str | None) -> None:
    text = "# systemd-boot configuration (written by machined)\ntimeout 0\n"
    if default:
        text += f"default {default.lower()}\n"
    path = os.path.join(root, LOADER_CONF)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(path, text.encode())


def next_boot(all_entries: list[Entry], pattern: str | None) -> Entry | None:
    """The entry systemd-boot chooses: the first (in its order: entries with tries left or
    no counter first) matching the default pattern, else the first usable one."""
    ordered = sorted(all_entries, key=lambda e: (e.bad, [-ord(c) for c in e.id]))
    if pattern:
        for e in ordered:
            if fnmatch.fnmatchcase(e.id, pattern):
                return e
    return ordered[0] if ordered else None


def read_slots(root: str) -> dict[str, object]:
    try:
        with open(os.path.join(root, SLOTS_RECORD), "rb") as f:
            doc = json.loads(f.read() or b"{}")
    except (FileNotFoundError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def write_slots(root: str, doc: dict[str, object]) -> None:
    path = os.path.join(root, SLOTS_RECORD)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(path, json.dumps(doc, sort_keys=True, indent=1).encode() + b"\n")


def uki_osrel(path: str) -> dict[str, str]:
    """The os-release fields of a UKI's `.osrel` PE section ({} when it has none)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
            pe = struct.unpack_from("<I", head, 0x3C)[0]
            if head[pe:pe + 4] != b"PE\0\0":
                return {}
            nsect, = struct.unpack_from("<H", head, pe + 6)
            opt_size, = struct.unpack_from("<H", head, pe + 20)
            table = pe + 24 + opt_size
            for i in range(nsect):
                off = table + 40 * i
                name = head[off:off + 8].rstrip(b"\0")
                raw_size, raw_ptr = struct.unpack_from("<II", head, off + 16)
                if name == b".osrel":
                    f.seek(raw_ptr)
                    text = f.read(min(raw_size, 65536)).rstrip(b"\0").decode(errors="replace")
                    out = {}
                    for line in text.splitlines():
                        k, sep, v = line.partition("=")
                        if sep:
                            out[k.strip()] = v.strip().strip('"')
                    return out
    except (OSError, struct.error):
        return {}
    return {}


def read_efi_var(name: str, guid: str = LOADER_GUID, root: str = EFIVARS) -> str | None:
    """A UTF-16 string EFI variable (systemd-boot's Loader* variables), or None."""
    try:
        with open(os.path.join(root, f"{name}-{guid}"), "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[4:].decode("utf-16-le", errors="replace").rstrip("\0") or None


def mount_efivars(root: str = EFIVARS) -> None:
    """Mount efivarfs (once) so the Loader* variables can be read; quiet on failure (a
    machine booted without UEFI has none)."""
    if not os.path.isdir(root) or os.path.ismount(root):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount(b"efivarfs", root.encode(), b"efivarfs", ctypes.c_ulong(0x1 | 0x2 | 0x4 | 0x8),
               None)  # MS_RDONLY|NOSUID|NODEV|NOEXEC


def selected_entry() -> str | None:
    """The id of the entry systemd-boot started this boot (LoaderEntrySelected)."""
    mount_efivars()
    return read_efi_var("LoaderEntrySelected")


@contextlib.contextmanager
def mounted(dev: str, target: str = MOUNT_POINT, *, readonly: bool = False) -> Iterator[str]:
    """The ESP `dev` mounted (read-write unless `readonly`) at `target` for the block, then
    synced and unmounted (machined keeps it mounted only while it writes)."""
    libc = ctypes.CDLL(None, use_errno=True)
    os.makedirs(target, exist_ok=True)
    flags = 0x2 | 0x4 | 0x8 | (0x1 if readonly else 0)  # MS_NOSUID|NODEV|NOEXEC[|RDONLY]
    if libc.mount(dev.encode(), target.encode(), b"vfat", ctypes.c_ulong(flags),
                  MOUNT_OPTIONS.encode()) != 0:
        err = ctypes.get_errno()
        raise EspError(f"cannot mount the EFI partition {dev} (vfat) at {target}: "
                       f"{os.strerror(err)}")
    try:
        yield target
    finally:
        os.sync()
        if libc.umount2(target.encode(), 0) != 0:
            err = ctypes.get_errno()
            raise EspError(f"cannot unmount the EFI partition at {target}: {os.strerror(err)}")


def copy_file(src: str, dst: str) -> str:
    """Copy through a hidden temp name (not `*.efi`: systemd-boot ignores it), fsync, rename;
    the sha256 of what was written, "sha256:<hex>"."""
    import hashlib

    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = os.path.join(os.path.dirname(dst), "." + os.path.basename(dst) + ".tmp")
    h = hashlib.sha256()
    try:
        with open(src, "rb") as i, open(tmp, "wb") as o:
            for chunk in iter(lambda: i.read(1 << 20), b""):
                h.update(chunk)
                o.write(chunk)
            o.flush()
            os.fsync(o.fileno())
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return "sha256:" + h.hexdigest()


def install_bootloader(root: str, sd_boot: str, uki: str) -> Entry:
    """A fresh ESP mounted at `root`: systemd-boot, the UKI as the (good) A entry, a
    loader.conf naming it the default, the slots record."""
    for path in BOOT_FILES:
        copy_file(sd_boot, os.path.join(root, path))
    tag = uki_osrel(uki).get("VERSION_ID") or "unknown"
    name = entry_name(tag, "A")
    digest = copy_file(uki, os.path.join(root, LINUX_DIR, name))
    write_slots(root, {"A": {"tag": tag, "digest": digest}})
    write_loader_conf(root, name)
    entry = parse_entry(name)
    assert entry is not None
    return entry


def bootable(root: str) -> bool:
    return os.path.exists(os.path.join(root, BOOT_FILES[0])) and bool(entries(root))
