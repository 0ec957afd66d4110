"""One upgrade on the node, after the installer image was pulled: resolve it in containerd,
copy its layer out (checked against the manifest's digest), find the target's payload and
SHA256SUMS in it, check the room, write the inactive slot (checked against SHA256SUMS),
switch (or stage). Nothing the next boot reads changes until every check passed: a bad
image, a digest mismatch or too little space leaves the boot record and the booted slot as
they were (the inactive slot's file is replaced only by a verified rename).

The caller (machined's API) pulls the image first, checks etcd on a control plane, and
reboots afterwards.
"""

from __future__ import annotations

import asyncio
import os
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from talos.machined.upgrade.installer import ASSET_DIR, SUMS, ContentStore, InstallerImage
from talos.machined.upgrade.target import BootImage, BootTarget, DigestMismatch, NoSpace
from talos.machinery.errors import FailedPrecondition, InvalidArgument, NotFound

#: room kept free besides the payload (the record, filesystem overhead)
MARGIN = 16 << 20

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Result:
    slot: str
    previous: BootImage | None
    installed: BootImage
    staged: bool


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def free_bytes(path: str) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def parse_sums(data: bytes) -> dict[str, str]:
    """{name: "sha256:<hex>"} of a sha256sum listing; InvalidArgument naming a bad line."""
    out: dict[str, str] = {}
    for n, line in enumerate(data.decode(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        hexpart, sep, name = line.partition("  ")
        if (not sep or len(hexpart) != 64 or not name
                or any(c not in "0123456789abcdef" for c in hexpart)):
            raise InvalidArgument(f"{SUMS} line {n} is not '<sha256>  <name>'")
        out[name.strip()] = "sha256:" + hexpart
    return out


def write_from_layer(target: BootTarget, slot: str, layer_path: str, tag: str,
                     image_name: str) -> BootImage:
    """Find the target's payload and the sums in the layer tarball; check the room; write
    the slot. Blocking file I/O: run in a thread."""
    payload = f"{ASSET_DIR}/{target.payload}"
    with tarfile.open(layer_path, "r:*") as tar:
        members = {m.name.lstrip("./"): m for m in tar.getmembers() if m.isfile()}
        for need in (payload, f"{ASSET_DIR}/{SUMS}"):
            if need not in members:
                raise InvalidArgument(f"image {image_name} is not an installer image for this "
                                      f"node: it has no /{need}")
        sums_file = tar.extractfile(members[f"{ASSET_DIR}/{SUMS}"])
        assert sums_file is not None
        sums = parse_sums(sums_file.read())
        if target.payload not in sums:
            raise DigestMismatch(f"image {image_name}: {SUMS} does not list {target.payload}")
        member = members[payload]
        room = target.free_bytes(slot)
        if room < member.size + MARGIN:
            raise NoSpace(f"boot slot {slot} has {_mib(room)} free, {target.payload} of "
                          f"{image_name} needs {_mib(member.size + MARGIN)}")
        image = BootImage(tag=tag, digest=sums[target.payload])
        stream = tar.extractfile(member)
        assert stream is not None
        target.write(slot, stream, member.size, image)  # type: ignore[arg-type]
    return image


async def upgrade(target: BootTarget, store: ContentStore, name: str, tmp_dir: str, *,
                  stage: bool, progress: Progress) -> Result:
    try:
        state = await asyncio.to_thread(target.state)
    except NotFound as e:
        raise FailedPrecondition(f"this node has nothing to upgrade ({e}): it was not "
                                 "booted from an image") from None
    image: InstallerImage = await store.resolve(name)
    progress(f"installer {name} ({image.digest[:19]}): version {image.tag}")
    slot = await asyncio.to_thread(target.slot_to_write)
    await asyncio.to_thread(os.makedirs, tmp_dir, 0o700, True)
    room = await asyncio.to_thread(free_bytes, tmp_dir)
    if room < image.layer.size + MARGIN:
        raise NoSpace(f"{tmp_dir} has {_mib(room)} free, the installer layer needs "
                      f"{_mib(image.layer.size + MARGIN)}")
    fd, layer_path = await asyncio.to_thread(tempfile.mkstemp, ".tar", "upgrade-layer-",
                                             tmp_dir)
    os.close(fd)
    await asyncio.to_thread(os.unlink, layer_path)  # copy_layer creates it anew (O_EXCL)
    try:
        progress(f"reading layer {image.layer.digest[:19]} ({_mib(image.layer.size)})")
        await store.copy_layer(image.layer, layer_path)
        progress(f"writing {target.payload} to boot slot {slot}")
        installed = await asyncio.to_thread(write_from_layer, target, slot, layer_path,
                                            image.tag, name)
    finally:
        await asyncio.to_thread(_unlink, layer_path)
    await asyncio.to_thread(target.switch, slot, installed, stage=stage)
    progress(f"boot slot {slot} holds {installed.tag}; "
             + ("staged: the next boot switches to it" if stage
                else "the next boot tries it (the previous one stays the fallback)"))
    return Result(slot=slot, previous=state.current_image(), installed=installed,
                  staged=stage)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
