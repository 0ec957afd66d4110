"""The sandbox boot target: writing a slot verifies before replacing, never touches the
only known-good slot, and switch/rollback/mark_good keep the boot record."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from talos.machined.upgrade.sandbox import SandboxTarget
from talos.machined.upgrade.target import BootImage, BootTarget, DigestMismatch
from talos.machinery import bootslots
from talos.machinery.errors import FailedPrecondition

OLD = b"old rootfs" * 100
NEW = b"new rootfs" * 100


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def boot(tmp_path: Path) -> Path:
    (tmp_path / "A").mkdir()
    (tmp_path / "A" / "rootfs.sqsh").write_bytes(OLD)
    bootslots.save(tmp_path, bootslots.initial(bootslots.SlotImage("v1", _digest(OLD))))
    return tmp_path


def test_sandbox_target_is_a_boot_target(boot: Path) -> None:
    assert isinstance(SandboxTarget(boot), BootTarget)


def test_an_upgrade_writes_the_inactive_slot_and_tries_it_next_boot(boot: Path) -> None:
    target = SandboxTarget(boot, booted="A")
    slot = target.slot_to_write()
    new = BootImage("v2", _digest(NEW))
    target.write(slot, io.BytesIO(NEW), len(NEW), new)
    target.switch(slot, new)
    assert (boot / "B" / "rootfs.sqsh").read_bytes() == NEW
    state = target.state()
    assert (state.current, state.default, state.on_trial) == ("A", "B", True)
    assert not target.mark_good()  # this boot is still the old slot's
    chosen, rec = bootslots.select(bootslots.load(boot))
    bootslots.save(boot, rec)
    assert chosen == "B"
    assert SandboxTarget(boot, booted="B").mark_good()
    assert not bootslots.load(boot).on_trial


def test_a_digest_mismatch_leaves_the_slot_and_record_as_they_were(boot: Path) -> None:
    target = SandboxTarget(boot, booted="A")
    (boot / "B").mkdir()
    (boot / "B" / "rootfs.sqsh").write_bytes(b"previous")
    before = (boot / "boot.json").read_bytes()
    with pytest.raises(DigestMismatch, match="sha256 is sha256:"):
        target.write("B", io.BytesIO(NEW), len(NEW), BootImage("v2", _digest(OLD)))
    assert (boot / "B" / "rootfs.sqsh").read_bytes() == b"previous"
    assert sorted(p.name for p in (boot / "B").iterdir()) == ["rootfs.sqsh"]
    assert (boot / "boot.json").read_bytes() == before


def test_a_short_stream_is_a_mismatch(boot: Path) -> None:
    target = SandboxTarget(boot, booted="A")
    with pytest.raises(DigestMismatch, match="got 10 bytes"):
        target.write("B", io.BytesIO(NEW[:10]), len(NEW), BootImage("v2", _digest(NEW)))
    assert not (boot / "B" / "rootfs.sqsh").exists()


def test_the_only_known_good_slot_is_never_written(boot: Path) -> None:
    target = SandboxTarget(boot, booted="A")
    new = BootImage("v2", _digest(NEW))
    target.write("B", io.BytesIO(NEW), len(NEW), new)
    target.switch("B", new)
    _, rec = bootslots.select(bootslots.load(boot))  # B boots on trial, A the fallback
    bootslots.save(boot, rec)
    on_trial = SandboxTarget(boot, booted="B")
    with pytest.raises(FailedPrecondition, match="only known-good"):
        on_trial.slot_to_write()
    with pytest.raises(FailedPrecondition, match="only known-good"):
        on_trial.write("A", io.BytesIO(NEW), len(NEW), new)
    assert (boot / "A" / "rootfs.sqsh").read_bytes() == OLD


def test_rollback_makes_the_previous_image_the_default(boot: Path) -> None:
    target = SandboxTarget(boot, booted="A")
    new = BootImage("v2", _digest(NEW))
    target.write("B", io.BytesIO(NEW), len(NEW), new)
    target.switch("B", new)
    _, rec = bootslots.select(bootslots.load(boot))
    bootslots.save(boot, rec)
    after = SandboxTarget(boot, booted="B")
    after.mark_good()
    assert after.rollback().tag == "v1"
    assert bootslots.select(bootslots.load(boot))[0] == "A"


def test_staging_switches_only_at_the_next_boot(boot: Path) -> None:
    target = SandboxTarget(boot, booted="A")
    new = BootImage("v2", _digest(NEW))
    target.write("B", io.BytesIO(NEW), len(NEW), new)
    target.switch("B", new, stage=True)
    state = target.state()
    assert (state.default, state.staged, state.on_trial) == ("B", "B", False)
    assert bootslots.select(bootslots.load(boot))[0] == "B"
