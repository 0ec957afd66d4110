"""The read-only root filesystem image, made reproducible: fixed times, root-owned, sorted
(mksquashfs sorts directory entries), no xattrs."""

from __future__ import annotations

from talos.imager import tools


def make(stage: str, out: str, epoch: int) -> None:
    tools.run(["mksquashfs", stage, out, "-noappend", "-comp", "zstd", "-b", "131072",
               "-all-root", "-no-xattrs", "-reproducible", "-mkfs-time", str(epoch),
               "-all-time", str(epoch), "-quiet", "-no-progress", "-processors", "2"])
