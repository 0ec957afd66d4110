"""Cluster network planning: CIDR parsing, node addresses, overlap detection, alternatives,
link names, and the cluster state record (no root needed)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talos.machinery.errors import InvalidArgument, NotFound
from talos.provision import network
from talos.provision.create import CreateOptions, plan
from talos.provision.state import ClusterRecord, NodeRecord


def _occ(cidr: str, link: str = "eth9") -> network.Occupant:
    return network.Occupant(ipaddress.IPv4Network(cidr), link, "route")


@pytest.mark.parametrize(("cidr", "message"), [
    ("10.5.0.1/24", "has host bits set (did you mean 10.5.0.0/24?)"),
    ("nonsense", "is not a CIDR"),
    ("fd00::/64", "only IPv4"),
    ("10.5.0.0/30", "too small"),
])
def test_bad_cidrs_are_named(cidr: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match="--cidr") as e:
        network.parse_cidr(cidr)
    assert message in str(e.value)


def test_plan_puts_control_planes_first_from_dot_two() -> None:
    p = plan(CreateOptions(name="demo", state_dir=Path("/nonexistent"), cidr="10.5.0.0/24",
                           controlplanes=3, workers=2))
    assert [(n, r, a) for n, r, a in p.nodes] == [
        ("demo-controlplane-1", "controlplane", "10.5.0.2"),
        ("demo-controlplane-2", "controlplane", "10.5.0.3"),
        ("demo-controlplane-3", "controlplane", "10.5.0.4"),
        ("demo-worker-1", "worker", "10.5.0.5"),
        ("demo-worker-2", "worker", "10.5.0.6"),
    ]
    assert str(p.net.gateway) == "10.5.0.1"


def test_plan_refuses_more_nodes_than_the_cidr_holds() -> None:
    with pytest.raises(InvalidArgument, match="no room for node #6"):
        plan(CreateOptions(name="demo", state_dir=Path("/x"), cidr="10.5.0.0/29",
                           controlplanes=1, workers=5))


@pytest.mark.parametrize(("name", "cps", "workers", "message"), [
    ("Bad_Name", 1, 1, "--name"), ("ok", 0, 1, "--controlplanes"), ("ok", 1, -1, "--workers")])
def test_bad_create_options_are_named(name: str, cps: int, workers: int, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        CreateOptions(name=name, state_dir=Path("/x"), cidr="10.5.0.0/24",
                      controlplanes=cps, workers=workers).validate()


def test_overlap_names_the_link_and_the_alternative_is_free() -> None:
    occupants = [_occ("10.5.0.0/16", "br-other"), _occ("10.6.0.0/24")]
    cidr = ipaddress.IPv4Network("10.5.3.0/24")
    assert [o.link for o in network.conflicts(cidr, occupants)] == ["br-other"]
    alt = network.free_alternative(cidr, occupants)
    assert alt is not None and alt.prefixlen == 24
    assert not network.conflicts(alt, occupants)


@settings(deadline=None, max_examples=60)
@given(st.integers(min_value=16, max_value=29), st.lists(
    st.tuples(st.integers(0, 2**24 - 1), st.integers(8, 30)), max_size=8))
def test_free_alternative_never_overlaps(prefix: int, taken: list[tuple[int, int]]) -> None:
    occupants = [network.Occupant(ipaddress.IPv4Network(
        (int(ipaddress.IPv4Address("10.0.0.0")) + off, plen), strict=False), "x", "route")
        for off, plen in taken]
    cidr = ipaddress.IPv4Network(f"10.5.0.0/{prefix}", strict=False)
    alt = network.free_alternative(cidr, occupants)
    if alt is not None:
        assert alt != cidr and alt.prefixlen == prefix
        assert alt.subnet_of(ipaddress.IPv4Network("10.0.0.0/8"))
        assert not network.conflicts(alt, occupants)
    else:  # only when nothing of that size is free in 10.0.0.0/8 (besides cidr itself)
        free = [n for n in ipaddress.IPv4Network("10.0.0.0/8").subnets(new_prefix=prefix)
                if n != cidr and not network.conflicts(n, occupants)] if prefix <= 20 else []
        assert not free


def test_link_names_fit_the_kernel_limit_and_are_stable() -> None:
    for name in ("talos-default", "x" * 42):
        assert len(network.bridge_name(name)) <= 15
        assert network.bridge_name(name) == network.bridge_name(name)
        assert len(network.host_veth_name(name, f"{name}-worker-12")) <= 15
    assert network.bridge_name("a") != network.bridge_name("b")


def test_only_our_links_can_be_deleted() -> None:
    with pytest.raises(InvalidArgument, match="not made by talosctl"):
        network.delete_link("eth0")


def test_cluster_record_round_trips_atomically(tmp_path: Path) -> None:
    rec = ClusterRecord(name="demo", cidr="10.5.0.0/24", bridge="talosx",
                        directory=str(tmp_path), nodes=(
                            NodeRecord("demo-controlplane-1", "controlplane", "10.5.0.2",
                                       str(tmp_path / "cp"), pid=10, launcher_pid=9),))
    rec.save()
    back = ClusterRecord.load(tmp_path)
    assert back == rec
    assert back.controlplanes[0].log_path.endswith("cp/machined.log")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(NotFound):
        ClusterRecord.load(tmp_path / "missing")
    (tmp_path / "state.json").write_text('{"name": 1, "bogus": 2}')
    with pytest.raises(InvalidArgument, match="not a cluster state file"):
        ClusterRecord.load(tmp_path)
