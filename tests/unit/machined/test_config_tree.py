"""config_tree: one parse per config text, every caller gets its own copy."""

from __future__ import annotations

from talos.cosi.resource import Resource
from talos.machined.controllers import config_tree
from talos.machined.services.identity import identity_config
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG, MachineConfigSpec

TEXT = """version: v1alpha1
machine:
  type: worker
  token: abc.def
  certSANs: [10.0.0.1]
  time:
    servers: [a.example, b.example]
cluster:
  controlPlane:
    endpoint: https://10.5.0.2:6443
---
apiVersion: v1alpha1
kind: SideroLinkConfig
"""


def resource(text: str) -> Resource:
    return Resource.new(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID,
                        MachineConfigSpec(text=text))


def test_v1alpha1_is_the_v1alpha1_document_and_a_private_copy() -> None:
    r = resource(TEXT)
    tree = config_tree.v1alpha1(r)
    assert config_tree.at(tree, "machine.time.servers") == ["a.example", "b.example"]
    tree["machine"]["time"]["servers"].append("mutated")
    tree["machine"]["type"] = "controlplane"
    again = config_tree.v1alpha1(resource(TEXT))
    assert config_tree.at(again, "machine.time.servers") == ["a.example", "b.example"]
    assert config_tree.at(again, "machine.type") == "worker"
    assert config_tree.v1alpha1(None) == {}
    assert config_tree.v1alpha1(resource("apiVersion: v1alpha1\nkind: X\n")) == {}


def test_documents_parses_once_per_text() -> None:
    config_tree._parsed.cache_clear()
    first = config_tree.documents(TEXT)
    second = config_tree.documents(TEXT)
    assert first == second and first is not second
    assert [d.get("kind") for d in first] == [None, "SideroLinkConfig"]
    info = config_tree._parsed.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    changed = TEXT.replace("worker", "controlplane")
    assert config_tree.documents(changed)[0]["machine"]["type"] == "controlplane"


def test_identity_config_reads_the_shared_parse() -> None:
    ident = identity_config(TEXT.encode(), "w1")
    assert ident.machine_type == "worker"
    assert ident.token == "abc.def"
    assert ident.endpoint_host == "10.5.0.2"
    assert ident.cert_sans == ("10.0.0.1",)
    assert ident.hostname == "w1"
