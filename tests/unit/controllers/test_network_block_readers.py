"""Kernel readers behind the network and block controllers, and the short names a Talos
user types for their types (upstream v1.13.9 `Aliases`, transcribed by hand)."""

from __future__ import annotations

import uuid

import pytest

from talos.machined.controllers.block.probe import probe_bytes
from talos.machined.controllers.network.resolver_status import parse_resolv_conf
from talos.machined.controllers.network.route_status import route_id
from talos.machinery.resources import resolve
from talos.machinery.resources.block import pretty_size
from talos.machinery.resources.network import ResolverStatusSpec, RouteStatusSpec

#: every short name upstream declares (plus COSI's automatic ones) for the types we publish
UPSTREAM_NAMES = {
    "addresses": "AddressStatuses.net.talos.dev", "address": "AddressStatuses.net.talos.dev",
    "links": "LinkStatuses.net.talos.dev", "link": "LinkStatuses.net.talos.dev",
    "routes": "RouteStatuses.net.talos.dev", "route": "RouteStatuses.net.talos.dev",
    "resolvers": "ResolverStatuses.net.talos.dev", "hostname": "HostnameStatuses.net.talos.dev",
    "timeservers": "TimeServerStatuses.net.talos.dev",
    "nodeaddresses": "NodeAddresses.net.talos.dev", "hostnamespec": "HostnameSpecs.net.talos.dev",
    "disks": "Disks.block.talos.dev", "disk": "Disks.block.talos.dev",
    "discoveredvolumes": "DiscoveredVolumes.block.talos.dev",
    "dv": "DiscoveredVolumes.block.talos.dev",
    "volumestatus": "VolumeStatuses.block.talos.dev",
    "volumestatuses": "VolumeStatuses.block.talos.dev", "vs": "VolumeStatuses.block.talos.dev",
    "linkstatuses.net": "LinkStatuses.net.talos.dev",
    "volumestatuses.block.talos": "VolumeStatuses.block.talos.dev",
    "svc": "Services.v1alpha1.talos.dev", "rd": "ResourceDefinitions.meta.cosi.dev",
}


@pytest.mark.parametrize("name", sorted(UPSTREAM_NAMES))
def test_upstream_short_names_resolve(name: str) -> None:
    assert resolve(name).type == UPSTREAM_NAMES[name]


def test_route_ids_follow_upstream() -> None:
    assert route_id(RouteStatusSpec(family="inet4", gateway="10.5.0.1", priority=1024,
                                    out_link_name="eth0")) == "inet4/10.5.0.1//1024"
    assert route_id(RouteStatusSpec(family="inet6", destination="ff00::/8", table="local",
                                    priority=256, out_link_name="eth0")) == \
        "local/eth0/inet6//ff00::/8/256"


def test_resolv_conf_servers_and_search_domains() -> None:
    text = "# comment\nnameserver 10.5.0.1\nnameserver fe80::1%eth0\nnameserver bogus\n" \
           "search a.example b.example\n"
    assert parse_resolv_conf(text) == ResolverStatusSpec(
        dns_servers=("10.5.0.1", "fe80::1"), search_domains=("a.example", "b.example"))


def test_pretty_size_is_go_humanize_bytes() -> None:
    assert [pretty_size(n) for n in (0, 9, 999, 4096000, 274877906944, 10**12)] == [
        "0 B", "9 B", "999 B", "4.1 MB", "275 GB", "1.0 TB"]


def test_probe_recognises_ext4_xfs_gpt_and_nothing() -> None:
    u = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    ext = bytearray(4096)
    ext[1024 + 56:1024 + 58] = b"\x53\xef"
    ext[1024 + 96:1024 + 100] = (0x40).to_bytes(4, "little")  # extents: ext4
    ext[1024 + 24:1024 + 28] = (2).to_bytes(4, "little")  # 4096-byte blocks
    ext[1024 + 104:1024 + 120] = u.bytes
    ext[1024 + 120:1024 + 125] = b"STATE"
    got = probe_bytes(bytes(ext))
    assert (got.name, got.uuid, got.label, got.block_size) == ("ext4", str(u), "STATE", 4096)

    xfs = bytearray(4096)
    xfs[:4] = b"XFSB"
    xfs[4:8] = (4096).to_bytes(4, "big")
    xfs[32:48] = u.bytes
    xfs[108:117] = b"EPHEMERAL"
    got = probe_bytes(bytes(xfs))
    assert (got.name, got.uuid, got.label) == ("xfs", str(u), "EPHEMERAL")

    gpt = bytearray(4096)
    gpt[510:512] = b"\x55\xaa"
    gpt[512:520] = b"EFI PART"
    assert probe_bytes(bytes(gpt)).name == "gpt"
    assert probe_bytes(bytes(4096)).name == ""
