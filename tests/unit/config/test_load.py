"""Loading: typed model, every problem with its path, did-you-mean, line:column."""

from __future__ import annotations

import pytest

from talos.machinery.config import load_config
from talos.machinery.errors import InvalidConfig

BASE = """\
# a worker
version: v1alpha1
debug: false
machine:
  type: worker   # the role
  token: 328hom.uqjzh6jnn2eie9oi
  certSANs: ["10.0.0.10"]
  network:
    hostname: worker-1
    interfaces:
      - interface: eth0
        addresses:
          - 10.5.0.2/24
        routes:
          - network: 0.0.0.0/0
            gateway: 10.5.0.1
  ca:
    crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
  features:
    hostDNS:
      enabled: true
      forwardKubeDNSToHost: true
  install:
    disk: /dev/sda
  sysctls:
    net.core.somaxconn: 65535
cluster:
  controlPlane:
    endpoint: https://10.5.0.1:6443
  clusterName: demo
  network:
    dnsDomain: cluster.local
    podSubnets: [10.244.0.0/16]
    serviceSubnets: [10.96.0.0/12]
"""


def problems(text: str) -> list[str]:
    with pytest.raises(InvalidConfig) as e:
        load_config(text, source="t.yaml")
    assert e.value.source == "t.yaml"
    return [str(p) for p in e.value.problems]


def test_typed_model_and_round_trip() -> None:
    cfg = load_config(BASE)
    v1 = cfg.v1alpha1
    assert v1 is not None and v1.machine is not None and v1.cluster is not None
    assert v1.machine.type == "worker"
    assert v1.machine.network is not None and v1.machine.network.interfaces is not None
    assert v1.machine.network.interfaces[0].addresses == ["10.5.0.2/24"]
    assert v1.machine.sysctls == {"net.core.somaxconn": "65535"}  # any scalar -> string
    assert v1.cluster.control_plane is not None
    assert v1.cluster.control_plane.endpoint == "https://10.5.0.1:6443"
    assert cfg.dump() == BASE  # comments, order, flow lists and quotes kept
    assert cfg.validate("metal") == []


def test_every_problem_reported_with_paths() -> None:
    text = BASE.replace("10.5.0.2/24", "10.5.0").replace("hostname: worker-1",
                                                          "hostnme: worker-1")
    text = text.replace("type: worker", "type: wroker").replace("debug: false", "debug: 3x")
    got = problems(text)
    assert 'machine.network.interfaces[0].addresses[0]: invalid CIDR "10.5.0"' in got
    assert 'machine.network.hostnme: unknown field "hostnme" (did you mean "hostname"?)' in got
    assert any(p.startswith('machine.type: invalid value "wroker"') for p in got)
    assert any(p.startswith("debug: expected a boolean") for p in got)
    assert len(got) == 4


def test_yaml_syntax_error_names_line_and_column() -> None:
    got = problems("machine:\n  type: worker\n   bad: [1\n")
    assert len(got) == 1 and "line 3, column" in got[0]


def test_unknown_kind_named() -> None:
    got = problems(BASE + "---\napiVersion: v1alpha1\nkind: SideroLinkConfg\napiUrl: https://x\n")
    assert got == ['document[1].kind: unknown kind "SideroLinkConfg" '
                   '(did you mean "SideroLinkConfig"?)']


def test_metal_requires_install_disk() -> None:
    cfg = load_config(BASE.replace("  install:\n    disk: /dev/sda\n", ""))
    with pytest.raises(InvalidConfig) as e:
        cfg.validate("metal")
    assert [str(p) for p in e.value.problems] == [
        'machine.install: install instructions are required in "metal" mode']
    assert cfg.validate("container") == []
    assert cfg.validate("cloud") == []


def test_surrogate_escapes_join_into_the_character_they_spell() -> None:
    text = BASE.replace("hostname: worker-1", 'hostname: "w\\ud83d\\ude00"')
    cfg = load_config(text)
    v1 = cfg.v1alpha1
    assert v1 is not None and v1.machine is not None and v1.machine.network is not None
    assert v1.machine.network.hostname == "w\U0001F600"


def test_an_unpaired_surrogate_escape_is_an_error() -> None:
    text = BASE.replace("hostname: worker-1", 'hostname: "w\\ud83d"')
    with pytest.raises(InvalidConfig, match="unpaired surrogate"):
        load_config(text)
