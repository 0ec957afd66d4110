"""The cluster registry as the nodes see it: the generated config names it as a plain-HTTP
mirror of itself (machine.registries.mirrors), and the node turns the mirrors into
containerd hosts.toml files; references are normalised as containerd stores them."""

from __future__ import annotations

import pytest

from talos.machined.server import registry_hosts
from talos.machined.server.images import normalize
from talos.machinery.config.config import load_config
from talos.machinery.config.generate import GenerateOptions, generate
from talos.machinery.errors import InvalidArgument
from talos.provision.create import node_config


def test_node_config_names_the_cluster_registry_as_a_mirror() -> None:
    g = generate(GenerateOptions(cluster_name="reg", endpoint="https://10.5.0.2:6443",
                                 talosconfig_endpoints=("10.5.0.2",)))
    text = node_config(g.controlplane, "reg-cp-1", [], gateway="10.5.0.1", with_registry=True)
    mirrors = load_config(text.encode()).v1alpha1.machine.registries.mirrors
    assert {h: m.endpoints for h, m in mirrors.items()} == {
        "10.5.0.1:5000": ["http://10.5.0.1:5000"]}
    plain = node_config(g.controlplane, "reg-cp-1", [], gateway="10.5.0.1")
    machine = load_config(plain.encode()).v1alpha1.machine
    assert machine.registries is None or not machine.registries.mirrors


def test_mirrors_become_hosts_toml() -> None:
    files = registry_hosts.generate(
        {"10.5.0.1:5000": registry_hosts.Mirror(("http://10.5.0.1:5000/",))}, {}, "/hosts")
    # the registry is its own mirror: no HTTPS fallback that would hide its answers
    assert {d: [(f.name, f.contents.decode()) for f in fs] for d, fs in files.items()} == {
        "10.5.0.1_5000_": [("hosts.toml",
                            "server = 'http://10.5.0.1:5000'\n[host]\n"
                            "  [host.'http://10.5.0.1:5000']\n"
                            "    capabilities = ['pull', 'resolve']\n")]}


@pytest.mark.parametrize(("ref", "name"), [
    ("alpine", "docker.io/library/alpine:latest"),
    ("siderolabs/installer:v1", "docker.io/siderolabs/installer:v1"),
    ("10.5.0.1:5000/tiny:v1", "10.5.0.1:5000/tiny:v1"),
    ("10.5.0.1:5000/tiny", "10.5.0.1:5000/tiny:latest"),
    ("ghcr.io/a/b@sha256:" + "0" * 64, "ghcr.io/a/b@sha256:" + "0" * 64),
])
def test_references_are_normalised_as_containerd_stores_them(ref: str, name: str) -> None:
    assert normalize(ref) == name


def test_an_empty_reference_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="image_ref"):
        normalize("  ")
