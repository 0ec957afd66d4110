"""How patch texts are read: a JSON patch written as JSON and the same patch written as YAML
give the same config; what JSON would read differently from YAML is read as YAML."""

from __future__ import annotations

import pytest

from talos.machinery.config import apply_patches
from talos.machinery.errors import InvalidConfig

BASE = """\
version: v1alpha1
machine:
  type: worker  # the role
  certSANs: [10.0.0.10]
cluster:
  clusterName: demo
  controlPlane:
    endpoint: https://10.5.0.1:6443
"""

JSON = ('[{"op": "add", "path": "/machine/certSANs/-", "value": "10.0.0.11"}, '
        '{"op": "replace", "path": "/cluster/clusterName", "value": "d\\u00e9mo"}]')
YAML = """\
- op: add
  path: /machine/certSANs/-
  value: 10.0.0.11
- op: replace
  path: /cluster/clusterName
  value: "d\\u00e9mo"
"""


def test_json_patch_as_json_yaml_or_bytes_gives_the_same_config() -> None:
    as_json = apply_patches(BASE, [JSON])
    assert as_json == apply_patches(BASE, [YAML]) == apply_patches(BASE, [JSON.encode()])
    assert "clusterName: démo" in as_json and "# the role" in as_json
    assert "10.0.0.11" in as_json


def test_duplicate_keys_in_a_json_patch_are_refused_as_yaml_refuses_them() -> None:
    dup = '[{"op": "add", "op": "remove", "path": "/machine/certSANs/0"}]'
    with pytest.raises(InvalidConfig, match="duplicate key"):
        apply_patches(BASE, [dup])


def test_a_syntax_error_in_one_patch_leaves_the_next_parse_unaffected() -> None:
    with pytest.raises(InvalidConfig, match="YAML syntax error"):
        apply_patches(BASE, ["machine: [1, 2"])
    assert "hostname: w1" in apply_patches(BASE, ["machine:\n  network:\n    hostname: w1\n"])
