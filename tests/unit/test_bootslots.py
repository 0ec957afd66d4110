"""Boot slot selection: trial boots, fallback, staging, rollback, and the known-good rule."""

from __future__ import annotations

import pytest

from talos.machinery import bootslots
from talos.machinery.errors import FailedPrecondition, NotFound

OLD = bootslots.SlotImage(tag="v1", digest="sha256:" + "1" * 64)
NEW = bootslots.SlotImage(tag="v2", digest="sha256:" + "2" * 64)


def test_a_new_node_boots_its_only_slot_with_nothing_on_trial() -> None:
    rec = bootslots.initial(OLD)
    slot, after = bootslots.select(rec)
    assert (slot, after.on_trial, after.known_good()) == ("A", False, ("A",))


def test_an_upgraded_slot_gets_one_trial_boot_then_falls_back() -> None:
    rec = bootslots.installed(bootslots.initial(OLD), "B", NEW)
    slot, rec = bootslots.select(rec)
    assert slot == "B" and rec.tries_left == 0
    slot, rec = bootslots.select(rec)  # the trial boot never reached running
    assert slot == "A" and rec.default == "A" and not rec.on_trial
    assert "slot B (v2) did not reach a healthy running node" in rec.last_selection
    assert "falling back to slot A (v1)" in rec.last_selection


def test_a_trial_boot_marked_good_stays() -> None:
    rec = bootslots.installed(bootslots.initial(OLD), "B", NEW)
    slot, rec = bootslots.select(rec)
    rec = bootslots.mark_good(rec)
    slot, rec = bootslots.select(rec)
    assert slot == "B" and rec.known_good() == ("B", "A")


def test_the_only_known_good_slot_is_never_overwritten() -> None:
    rec = bootslots.installed(bootslots.initial(OLD), "B", NEW)
    _, rec = bootslots.select(rec)
    with pytest.raises(FailedPrecondition, match="only known-good image"):
        bootslots.slot_to_write(rec)
    assert bootslots.slot_to_write(bootslots.mark_good(rec)) == "A"


def test_a_staged_slot_waits_for_the_next_boot() -> None:
    rec = bootslots.installed(bootslots.initial(OLD), "B", NEW, stage=True)
    assert rec.default == "A" and rec.staged == "B"
    slot, rec = bootslots.select(rec)
    assert slot == "B" and rec.fallback == "A" and rec.on_trial


def test_rollback_switches_to_the_previous_slot_and_needs_one() -> None:
    with pytest.raises(FailedPrecondition, match="no previous image"):
        bootslots.rolled_back(bootslots.initial(OLD))
    rec = bootslots.mark_good(bootslots.installed(bootslots.initial(OLD), "B", NEW))
    back = bootslots.rolled_back(rec)
    assert (back.default, back.fallback, back.on_trial) == ("A", "B", False)


def test_the_record_round_trips_and_names_a_missing_one(tmp_path) -> None:
    rec = bootslots.installed(bootslots.initial(OLD), "B", NEW, stage=True)
    bootslots.save(tmp_path, rec)
    assert bootslots.load(tmp_path) == rec
    with pytest.raises(NotFound, match="no boot record"):
        bootslots.load(tmp_path / "missing")
