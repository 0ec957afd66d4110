"""provision(): a node's config is made just before it is launched, but a bad patch of the
user's still fails the create at "generate configs", before anything exists."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from talos.machinery.config import load_config
from talos.machinery.config.generate import GenerateOptions, generate
from talos.provision import network
from talos.provision.create import CreateFailed, CreateOptions, node_config, provision


def free_cidr() -> str:
    """A /24 no route or address of the host's overlaps (nothing is created on it: the
    create fails before that): 198.18.0.0/24, or else the first free one in 10.0.0.0/8."""
    wanted = ipaddress.IPv4Network("198.18.0.0/24")
    occupants = network.host_ipv4_networks()
    if not network.conflicts(wanted, occupants):
        return str(wanted)
    alternative = network.free_alternative(wanted, occupants)
    assert alternative is not None, "every /24 of 10.0.0.0/8 is in use on this host"
    return str(alternative)


@pytest.mark.parametrize("flag", ["config_patches", "config_patches_controlplane",
                                  "config_patches_worker"])
def test_a_bad_patch_fails_before_anything_is_created(tmp_path: Path, flag: str) -> None:
    opts = CreateOptions(name="badpatch", state_dir=tmp_path, cidr=free_cidr(),
                         **{flag: ("machine:\n  noSuchField: 1\n",)})  # type: ignore[arg-type]
    seen: list[str] = []
    with pytest.raises(CreateFailed) as info:
        provision(opts, seen.append)
    assert info.value.step == "generate configs"
    assert "noSuchField" in str(info.value)
    assert not (tmp_path / "badpatch").exists()
    assert not any(m.startswith("launching") for m in seen)


def test_node_config_names_the_node_and_keeps_the_users_patch_last() -> None:
    gen = generate(GenerateOptions(cluster_name="c1", endpoint="https://10.5.0.2:6443"))
    text = node_config(gen.worker, "c1-worker-1", ())
    assert load_config(text).v1alpha1.machine.network.hostname == "c1-worker-1"
    text = node_config(gen.worker, "c1-worker-1",
                       ("machine:\n  network:\n    hostname: mine\n",))
    assert load_config(text).v1alpha1.machine.network.hostname == "mine"
