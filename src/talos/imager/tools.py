"""Running the build machine's tools (mksquashfs, objcopy, sfdisk, ...), failing clearly."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from talos.imager.errors import ImageBuildError

#: Debian package providing each tool the imager runs
PACKAGES = {
    "gcc": "gcc",
    "ldd": "libc-bin",
    "mksquashfs": "squashfs-tools",
    "zstd": "zstd",
    "objcopy": "binutils",
    "sfdisk": "fdisk",
    "mkfs.vfat": "dosfstools",
    "mcopy": "mtools",
    "mmd": "mtools",
}


def which(tool: str) -> str:
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if path is None:
        raise ImageBuildError(f"the image build needs {tool!r}: "
                              f"apt-get install {PACKAGES.get(tool, tool)}")
    return path


def run(argv: Sequence[str], *, cwd: str | None = None, env: dict[str, str] | None = None,
        stdin: bytes | None = None, ok_codes: tuple[int, ...] = (0,)) -> bytes:
    """Run a tool; its stdout, or an ImageBuildError naming the tool and its last words."""
    full_env = {**os.environ, **(env or {})}
    try:
        proc = subprocess.run([which(argv[0]), *argv[1:]], cwd=cwd, env=full_env,
                              input=stdin, capture_output=True, check=False)
    except OSError as exc:
        raise ImageBuildError(f"cannot run {argv[0]}: {exc.strerror}") from exc
    if proc.returncode not in ok_codes:
        tail = (proc.stderr or proc.stdout).decode(errors="replace").strip().splitlines()[-5:]
        raise ImageBuildError(f"{argv[0]} failed (exit {proc.returncode}): "
                              + " / ".join(tail))
    return proc.stdout
