"""A newc cpio archive (the initramfs format), written with fixed owners, times and inode
numbers so the same entries always give the same bytes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

S_IFMT, S_IFDIR, S_IFREG, S_IFCHR = 0o170000, 0o040000, 0o100000, 0o020000


@dataclass(frozen=True)
class Member:
    name: str  # relative, no leading slash
    mode: int  # type | permissions
    source: str | None = None  # regular file: content from this path
    data: bytes = b""  # or this content
    rdev: tuple[int, int] = (0, 0)  # character device: (major, minor)


def _pad(n: int) -> bytes:
    return b"\0" * ((4 - n % 4) % 4)


def _header(ino: int, m: Member, size: int, mtime: int) -> bytes:
    name = m.name.encode() + b"\0"
    nlink = 2 if m.mode & S_IFMT == S_IFDIR else 1
    fields = (ino, m.mode, 0, 0, nlink, mtime, size, 0, 0, m.rdev[0], m.rdev[1],
              len(name), 0)
    head = b"070701" + b"".join(b"%08X" % v for v in fields)
    return head + name + _pad(len(head) + len(name))


def write(out: BinaryIO, members: Iterable[Member], mtime: int) -> None:
    ino = 1
    for m in sorted(members, key=lambda m: m.name):
        if m.source is not None:
            size = os.path.getsize(m.source)
            out.write(_header(ino, m, size, mtime))
            with open(m.source, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
        else:
            size = len(m.data)
            out.write(_header(ino, m, size, mtime))
            out.write(m.data)
        out.write(_pad(size))
        ino += 1
    trailer = Member("TRAILER!!!", 0)
    out.write(_header(0, trailer, 0, 0))
    # the kernel reads the archive in 512-byte blocks
    pos = out.tell()
    out.write(b"\0" * ((512 - pos % 512) % 512))
