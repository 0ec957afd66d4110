"""Loop devices a test makes for itself: the only block devices a test may open for writing.

    with loop_device(tmp_path) as (name, backing):   # name: "loop3"
        ...

A sparse file in the test's directory, attached with losetup; detached in a finally, and
the test fails if the file is still attached afterwards.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MiB = 1 << 20


def attached(backing: Path) -> str:
    """losetup's line for every loop device on `backing` (empty: none)."""
    return subprocess.run(["losetup", "--associated", str(backing)], capture_output=True,
                          text=True, check=False).stdout.strip()


@contextmanager
def loop_device(directory: Path, size: int = 16 * MiB) -> Iterator[tuple[str, Path]]:
    """(kernel name, backing file) of a new loop device on a sparse file in `directory`."""
    backing = directory / "loop.img"
    with backing.open("wb") as f:
        f.truncate(size)
    dev = subprocess.run(["losetup", "--find", "--show", str(backing)], capture_output=True,
                         text=True, check=True).stdout.strip()
    try:
        yield os.path.basename(dev), backing
    finally:
        subprocess.run(["losetup", "--detach", dev], check=False)
        left = attached(backing)
        assert left == "", f"loop device left attached: {left}"


def signatures(path: Path | str) -> str:
    """What `blkid -p` finds on `path` (empty: nothing)."""
    return subprocess.run(["blkid", "-p", str(path)], capture_output=True, text=True,
                          check=False).stdout.strip()
