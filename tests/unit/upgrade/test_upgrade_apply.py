"""One upgrade's checks before the node changes: SHA256SUMS against what is written, room in
the boot slot and for the layer, and the only known-good slot."""

from __future__ import annotations

import asyncio
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from talos.imager import oci
from talos.machined.upgrade import apply, installer
from talos.machined.upgrade.installer import InstallerImage, Layer
from talos.machined.upgrade.sandbox import SandboxTarget
from talos.machined.upgrade.target import BootImage, DigestMismatch, NoSpace
from talos.machinery import bootslots
from talos.machinery.errors import FailedPrecondition, InvalidArgument

OLD = b"old rootfs" * 100
NEW = b"new rootfs" * 100


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(tmp: Path, rootfs: bytes, *, sums_of: bytes | None = None) -> bytes:
    """An installer layer holding `rootfs` whose SHA256SUMS lists `sums_of` (default: the
    same bytes)."""
    (tmp / "rootfs.sqsh").write_bytes(sums_of if sums_of is not None else rootfs)
    listed = oci.sums({"rootfs.sqsh": str(tmp / "rootfs.sqsh")})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("rootfs.sqsh", rootfs), ("SHA256SUMS", listed)):
            info = tarfile.TarInfo(f"{oci.ASSET_DIR}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class FakeStore:
    """What machined reads from containerd, without containerd."""

    def __init__(self, layer: bytes, tag: str = "v2") -> None:
        self.blob = layer
        self.image = InstallerImage("registry:5000/installer:v2", _digest(b"manifest"), tag,
                                    Layer(_digest(layer), len(layer), oci.MEDIA_LAYER))
        self.copied = False

    async def resolve(self, name: str) -> InstallerImage:
        return self.image

    async def copy_layer(self, layer: Layer, dest: str) -> None:
        self.copied = True
        await asyncio.to_thread(Path(dest).write_bytes, self.blob)


@pytest.fixture
def boot(tmp_path: Path) -> Path:
    d = tmp_path / "boot"
    (d / "A").mkdir(parents=True)
    (d / "A" / "rootfs.sqsh").write_bytes(OLD)
    bootslots.save(d, bootslots.initial(bootslots.SlotImage("v1", _digest(OLD))))
    return d


async def _upgrade(target: SandboxTarget, store: FakeStore, tmp: Path,
                   stage: bool = False) -> apply.Result:
    lines: list[str] = []
    return await apply.upgrade(target, store, store.image.name,  # type: ignore[arg-type]
                               str(tmp / "eph"), stage=stage, progress=lines.append)


async def test_an_upgrade_writes_the_verified_rootfs_and_switches(boot: Path,
                                                                  tmp_path: Path) -> None:
    target = SandboxTarget(boot, booted="A")
    result = await _upgrade(target, FakeStore(_layer(tmp_path, NEW)), tmp_path)
    assert (result.slot, result.installed.tag, result.previous) == (
        "B", "v2", BootImage("v1", _digest(OLD)))
    assert (boot / "B" / "rootfs.sqsh").read_bytes() == NEW
    rec = bootslots.load(boot)
    assert (rec.default, rec.fallback, rec.on_trial) == ("B", "A", True)
    assert list((tmp_path / "eph").iterdir()) == []  # the copied layer is gone


async def test_a_rootfs_not_matching_sha256sums_changes_nothing(boot: Path,
                                                                tmp_path: Path) -> None:
    before = (boot / "boot.json").read_bytes()
    target = SandboxTarget(boot, booted="A")
    with pytest.raises(DigestMismatch, match="the image says"):
        await _upgrade(target, FakeStore(_layer(tmp_path, NEW, sums_of=b"other")), tmp_path)
    assert (boot / "boot.json").read_bytes() == before
    assert not (boot / "B" / "rootfs.sqsh").exists()


async def test_too_little_room_in_the_slot_changes_nothing(
        boot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = (boot / "boot.json").read_bytes()
    target = SandboxTarget(boot, booted="A")
    monkeypatch.setattr(target, "free_bytes", lambda slot: 1000)
    with pytest.raises(NoSpace, match=r"boot slot B has 0\.0 MiB free"):
        await _upgrade(target, FakeStore(_layer(tmp_path, NEW)), tmp_path)
    assert (boot / "boot.json").read_bytes() == before
    assert not (boot / "B").exists()


async def test_too_little_room_for_the_layer_fails_before_reading_it(
        boot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apply, "free_bytes", lambda path: 10)
    store = FakeStore(_layer(tmp_path, NEW))
    with pytest.raises(NoSpace, match="the installer layer needs"):
        await _upgrade(SandboxTarget(boot, booted="A"), store, tmp_path)
    assert not store.copied


async def test_the_only_known_good_slot_is_refused_before_anything_is_read(
        boot: Path, tmp_path: Path) -> None:
    bootslots.save(boot, bootslots.installed(bootslots.load(boot), "B",
                                             bootslots.SlotImage("v2", _digest(NEW))))
    _, rec = bootslots.select(bootslots.load(boot))  # B on trial, A the only good one
    bootslots.save(boot, rec)
    store = FakeStore(_layer(tmp_path, NEW))
    with pytest.raises(FailedPrecondition, match="only known-good"):
        await _upgrade(SandboxTarget(boot, booted="B"), store, tmp_path)
    assert not store.copied
    assert (boot / "A" / "rootfs.sqsh").read_bytes() == OLD


async def test_staging_leaves_the_default_until_the_next_boot(boot: Path,
                                                              tmp_path: Path) -> None:
    await _upgrade(SandboxTarget(boot, booted="A"), FakeStore(_layer(tmp_path, NEW)),
                   tmp_path, stage=True)
    rec = bootslots.load(boot)
    assert (rec.default, rec.staged, rec.on_trial) == ("A", "B", False)


async def test_an_image_without_the_payload_is_named(boot: Path, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(InvalidArgument, match=r"has no /usr/install/amd64/rootfs\.sqsh"):
        await _upgrade(SandboxTarget(boot, booted="A"), FakeStore(buf.getvalue()), tmp_path)


async def test_a_node_without_a_boot_record_has_nothing_to_upgrade(tmp_path: Path) -> None:
    with pytest.raises(FailedPrecondition, match="not booted from an image"):
        await _upgrade(SandboxTarget(tmp_path / "none"), FakeStore(b""), tmp_path)


def test_a_layer_whose_bytes_do_not_hash_to_its_digest_is_a_mismatch() -> None:
    with pytest.raises(DigestMismatch, match="hashes to sha256:"):
        installer._check("layer", _digest(b"a"), hashlib.sha256(b"b").hexdigest(), 1, 1)
    with pytest.raises(DigestMismatch, match="read 1 bytes, the manifest says 2"):
        installer._check("layer", _digest(b"a"), hashlib.sha256(b"a").hexdigest(), 1, 2)
