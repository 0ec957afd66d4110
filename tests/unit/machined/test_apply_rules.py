"""The no-reboot field table and the one-apply-at-a-time rule."""

from __future__ import annotations

import pytest

from talos.machined.apply.applier import Mode
from talos.machined.apply.reboot_fields import NO_REBOOT_FIELDS, fields_needing_reboot
from talos.machined.node import Node
from talos.machined.paths import NodePaths
from talos.machinery.config import load_config
from talos.machinery.errors import Busy

BASE = """version: v1alpha1
machine:
  type: worker
  network:
    hostname: a
cluster:
  clusterName: c
"""


def _cfg(text: str):
    return load_config(text.encode())


def test_fields_in_the_table_change_in_place_and_others_are_named():
    old = _cfg(BASE)
    in_place = _cfg(BASE.replace("hostname: a", "hostname: b")
                    .replace("clusterName: c", "clusterName: d"))
    assert fields_needing_reboot(old, in_place) == []
    features = _cfg(BASE.replace("machine:\n", "machine:\n  features:\n    kubePrism:\n"
                                              "      enabled: true\n"))
    assert fields_needing_reboot(old, features) == []
    both = _cfg(BASE.replace("type: worker", "type: controlplane")
                .replace("machine:\n", "machine:\n  env:\n    A: b\n")
                .replace("clusterName: c", "clusterName: d"))
    assert fields_needing_reboot(old, both) == ["machine.env.A", "machine.type"]
    assert "machine.network" in NO_REBOOT_FIELDS and "machine.type" not in NO_REBOOT_FIELDS


async def test_a_second_apply_while_one_runs_is_busy(tmp_path):
    node = Node(NodePaths(str(tmp_path)))
    async with node.applier._lock:
        with pytest.raises(Busy) as e:
            await node.applier.apply(BASE.encode(), Mode.NO_REBOOT)
    assert "another ApplyConfiguration is in progress" in str(e.value)
