"""The executables an image may ship, and the check that it ships no others.

An executable is a regular file with an exec bit, or an ELF program (ET_EXEC, or a PIE with
an interpreter) whatever its mode, except a shared library without an exec bit (glibc's
libc.so.6 has an entry point, but the kernel will not run a file without an exec bit and the
root is read-only). Upstream Talos ships about a dozen; this image ships the
init, the Python interpreter that runs machined and every other node component, the
programs machined supervises (etcd, containerd, its runc shim, runc), containerd's client
`ctr` (containerd 1.6 pulls images client-side: image pull and upgrades), mkfs.xfs for the
install to disk and the dynamic loader they need. Python's own modules and the shared libraries are
data, never executables.
"""

from __future__ import annotations

import os
import stat

from talos.imager import elf
from talos.imager.errors import ImageBuildError

ALLOWED = frozenset({
    "/init",  # the initramfs init (init/init.c)
    "/usr/bin/python3.11",
    "/usr/bin/etcd",
    "/usr/bin/containerd",
    "/usr/bin/containerd-shim-runc-v2",
    "/usr/sbin/runc",
    "/usr/bin/ctr",  # containerd's client: image pulls/imports and upgrades pull through it
    # the install to disk formats STATE and EPHEMERAL as xfs, as upstream does (Python has
    # no xfs writer; the GPT is written by machined itself, so no sfdisk)
    "/usr/sbin/mkfs.xfs",
    "/usr/lib64/ld-linux-x86-64.so.2",  # the dynamic loader of every program above
})


def scan(root: str) -> list[str]:
    """Paths (as in the image) of every executable under `root`, sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                continue
            library = ".so" in name and name.startswith(("lib", "ld-"))
            if st.st_mode & 0o111 or (not library and elf.is_elf(path)
                                      and elf.is_program(path)):
                found.append("/" + os.path.relpath(path, root))
    return found


def check(found: list[str]) -> None:
    unexpected = sorted(set(found) - ALLOWED)
    if unexpected:
        raise ImageBuildError("the image would ship executables that are not on the "
                              "imager's allowlist (talos.imager.executables.ALLOWED): "
                              + ", ".join(unexpected))
