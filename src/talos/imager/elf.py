"""ELF files: which ones are programs, and which shared libraries a file needs."""

from __future__ import annotations

import os
import re
import struct

from talos.imager import tools

ET_EXEC = 2
PT_INTERP = 3
#: where shared libraries of the build machine's Debian packages live
SYSTEM_LIB_DIRS = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/")


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def is_program(path: str) -> bool:
    """An ELF the kernel can run as a program: ET_EXEC, or ET_DYN with an interpreter
    (a PIE). Shared libraries (ET_DYN without PT_INTERP) are not."""
    with open(path, "rb") as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit only
            return False
        e_type = struct.unpack_from("<H", head, 16)[0]
        if e_type == ET_EXEC:
            return True
        phoff = struct.unpack_from("<Q", head, 32)[0]
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            if struct.unpack("<I", f.read(4))[0] == PT_INTERP:
                return True
    return False


_LDD_LINE = re.compile(r"^\s*(?:\S+ => )?(/\S+) \(0x[0-9a-f]+\)$")


def needed_libraries(path: str) -> list[str]:
    """Absolute paths (as the loader finds them here) of the system libraries `path` needs,
    the dynamic loader included; libraries a Python wheel bundles next to itself are not
    system libraries and are left out (they ship with their package)."""
    # ldd exits 1 for a static program ("not a dynamic executable"): no libraries
    out = tools.run(["ldd", path], ok_codes=(0, 1)).decode(errors="replace")
    libs = []
    for line in out.splitlines():
        m = _LDD_LINE.match(line)
        if m and m.group(1).startswith(SYSTEM_LIB_DIRS) and "site-packages" not in m.group(1):
            libs.append(m.group(1))
    return sorted(set(libs))


def image_path(lib: str) -> str:
    """Where a build-machine library goes in the image: its directory as the merged-/usr
    layout resolves it (/lib -> /usr/lib), under its own (soname) file name."""
    return os.path.join(os.path.realpath(os.path.dirname(lib)), os.path.basename(lib))
