"""The config in STATE: seeding, staged promotion, leftovers of interrupted writes, reset
plans."""

from __future__ import annotations

import pytest

from talos.machined.apply.store import ConfigStore
from talos.machined.paths import NodePaths
from talos.machined.reset import LABELS, plan
from talos.machinery.errors import FailedPrecondition, InvalidArgument, InvalidConfig

CFG = b"version: v1alpha1\nmachine:\n  type: worker\n  network:\n    hostname: %s\n" \
      b"cluster:\n  clusterName: c\n"


def _store(tmp_path) -> ConfigStore:
    paths = NodePaths(str(tmp_path))
    paths.ensure()
    return ConfigStore(paths)


def test_no_config_anywhere_means_maintenance_mode(tmp_path):
    assert _store(tmp_path).load_at_boot(None) is None


def test_seed_is_validated_then_copied_into_state_once(tmp_path):
    store = _store(tmp_path)
    seed = tmp_path / "seed.yaml"
    seed.write_bytes(CFG % b"a")
    assert store.load_at_boot(str(seed)).hostname == "a"
    seed.write_bytes(CFG % b"b")  # STATE wins from now on
    assert store.load_at_boot(str(seed)).hostname == "a"
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"version: v1alpha1\nmachine:\n  type: nope\n")
    with pytest.raises(InvalidConfig):
        _store(tmp_path / "other").load_at_boot(str(bad))
    assert not (tmp_path / "other/system/state/config.yaml").exists()


def test_staged_config_is_promoted_at_boot_and_stray_temp_files_removed(tmp_path):
    store = _store(tmp_path)
    store.write_active(CFG % b"old")
    store.write_staged(CFG % b"new")
    stray = tmp_path / "system/state/.config.yaml.abc123.tmp"
    stray.write_bytes(b"version: v1alp")  # a write interrupted by a crash
    assert store.load_at_boot(None).hostname == "new"
    assert not stray.exists()
    assert not (tmp_path / "system/state/config.staged.yaml").exists()
    assert store.load_at_boot(None).hostname == "new"


def test_reset_plan_checks_labels_and_defaults_to_all():
    assert plan(True, True, [], []).wipe == LABELS
    assert plan(False, False, [("EPHEMERAL", True), ("STATE", False)], []).wipe == \
        ("EPHEMERAL",)
    with pytest.raises(InvalidArgument) as e:
        plan(False, False, [("META", True)], [])
    assert "unknown label 'META'" in str(e.value)
    with pytest.raises(FailedPrecondition):
        plan(False, False, [], ["sdb"])
