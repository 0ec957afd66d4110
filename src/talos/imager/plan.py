"""The root filesystem as data: a sorted list of entries (directories, files copied from the
build machine or written by the imager, symlinks), and the digest of all of it.

The digest covers every path, mode, link target and file content (plus whatever else the
build depends on, see `build.inputs_digest`): two builds from the same inputs have the same
digest, which is the cache key of the build.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field

from talos.imager.errors import ImageBuildError


@dataclass(frozen=True)
class Entry:
    path: str  # absolute path in the image
    kind: str  # "dir", "file" or "symlink"
    mode: int = 0o755
    source: str | None = None  # file: copied from this path on the build machine
    data: bytes | None = None  # file: or written with this content
    target: str | None = None  # symlink: points here


def file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Plan:
    entries: dict[str, Entry] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        old = self.entries.get(entry.path)
        if old is not None and old != entry:
            if old.kind == entry.kind == "dir":
                return
            raise ImageBuildError(f"two different things would be at {entry.path} in the "
                                  "image")
        parent = os.path.dirname(entry.path)
        if parent != "/" and parent not in self.entries:
            self.add(Entry(parent, "dir"))
        self.entries[entry.path] = entry

    def dir(self, path: str, mode: int = 0o755) -> None:
        self.add(Entry(path, "dir", mode))

    def copy(self, path: str, source: str, mode: int = 0o644) -> None:
        self.add(Entry(path, "file", mode, source=os.path.realpath(source)))

    def write(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self.add(Entry(path, "file", mode, data=data))

    def symlink(self, path: str, target: str) -> None:
        self.add(Entry(path, "symlink", 0o777, target=target))

    def sorted(self) -> list[Entry]:
        return [self.entries[p] for p in sorted(self.entries)]

    def digest(self) -> str:
        h = hashlib.sha256()
        for e in self.sorted():
            content = ""
            if e.kind == "file":
                content = (hashlib.sha256(e.data).hexdigest() if e.data is not None
                           else file_digest(e.source or ""))
            h.update(f"{e.path}\0{e.kind}\0{e.mode:o}\0{e.target or ''}\0{content}\n".encode())
        return h.hexdigest()

    def materialize(self, root: str, mtime: int) -> None:
        """Write the tree under `root` (which must exist and be empty)."""
        entries = self.sorted()
        for e in entries:
            dst = os.path.join(root, e.path.lstrip("/"))
            if e.kind == "dir":
                os.makedirs(dst, exist_ok=True)
            elif e.kind == "symlink":
                os.symlink(e.target or "", dst)
            elif e.data is not None:
                with open(dst, "wb") as f:
                    f.write(e.data)
            else:
                shutil.copyfile(e.source or "", dst)
        # modes and times last (a read-only directory would refuse its children)
        for e in reversed(entries):
            dst = os.path.join(root, e.path.lstrip("/"))
            if e.kind != "symlink":
                os.chmod(dst, e.mode)
            os.utime(dst, (mtime, mtime), follow_symlinks=False)
