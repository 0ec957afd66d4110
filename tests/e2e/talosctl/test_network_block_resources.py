"""`talosctl get` of the network and block resources (upstream v1.13.9 names, aliases and
columns) from a plain-mode node: it sees the host's network namespace and block devices."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.e2e.talosctl.conftest import HOSTS, E2ECluster

BASE = ["NODE", "NAMESPACE", "TYPE", "ID", "VERSION"]


def _get(e2e: E2ECluster, *args: str) -> tuple[list[str], list[list[str]], str]:
    r = e2e.run("-n", HOSTS[0], "get", *args)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    return lines[0].split(), [ln.split() for ln in lines[1:] if ln.strip()], r.stdout


def _json(e2e: E2ECluster, *args: str) -> list[dict[str, object]]:
    r = e2e.run("-n", HOSTS[0], "get", *args, "-o", "json")
    assert r.returncode == 0, r.stderr
    dec = json.JSONDecoder()
    out, text = [], r.stdout.strip()
    while text:
        obj, end = dec.raw_decode(text)
        out.append(obj)
        text = text[end:].strip()
    return out


@pytest.mark.parametrize(("alias", "type_", "columns"), [
    ("links", "LinkStatus", ["ALIAS", "TYPE", "KIND", "HW", "ADDR", "OPER", "STATE", "LINK",
                             "STATE"]),
    ("link", "LinkStatus", None),
    ("addresses", "AddressStatus", ["ADDRESS", "LINK"]),
    ("address", "AddressStatus", None),
    ("routes", "RouteStatus", ["DESTINATION", "GATEWAY", "LINK", "METRIC"]),
    ("route", "RouteStatus", None),
    ("resolvers", "ResolverStatus", ["RESOLVERS", "SEARCH", "DOMAINS"]),
    ("nodeaddresses", "NodeAddress", ["ADDRESSES", "SORTALGORITHM"]),
    ("hostname", "HostnameStatus", ["HOSTNAME", "DOMAINNAME"]),
    ("hostnamespecs", "HostnameSpec", []),
    ("disks", "Disk", ["SIZE", "READ", "ONLY", "TRANSPORT", "ROTATIONAL", "WWID", "MODEL",
                       "SERIAL"]),
    ("discoveredvolumes", "DiscoveredVolume", ["TYPE", "SIZE", "DISCOVERED", "LABEL",
                                               "PARTITIONLABEL"]),
    ("volumestatus", "VolumeStatus", ["TYPE", "PHASE", "LOCATION", "SIZE"]),
])
def test_network_and_block_types_resolve_with_upstream_columns(
        e2e: E2ECluster, alias: str, type_: str, columns: list[str] | None) -> None:
    header, rows, out = _get(e2e, alias)
    assert rows, out
    assert {row[2] for row in rows} == {type_}
    if columns is not None:
        assert header == BASE + columns


def test_links_addresses_and_routes_are_the_kernels(e2e: E2ECluster) -> None:
    _, rows, out = _get(e2e, "links")
    lo = next(r for r in rows if r[3] == "lo")
    assert lo[1] == "network" and "loopback" in lo, out
    assert set(os.listdir("/sys/class/net")) == {r[3] for r in rows}

    _, rows, out = _get(e2e, "addresses")
    ids = {r[3] for r in rows}
    assert "lo/127.0.0.1/8" in ids, out
    spec = next(d["spec"] for d in _json(e2e, "addresses", "lo/127.0.0.1/8"))
    assert spec == {"address": "127.0.0.1/8", "local": "127.0.0.1", "linkIndex": 1,
                    "linkName": "lo", "family": "inet4", "scope": "host",
                    "flags": "permanent", "priority": 0}

    _, rows, out = _get(e2e, "routes")
    local = [r for r in rows if r[3].startswith("local/inet4//127.0.0.1/32/")]
    assert local, out


def test_volume_status_publishes_state_and_ephemeral_as_directories(e2e: E2ECluster) -> None:
    node = e2e.nodes[HOSTS[0]]
    docs = {d["metadata"]["id"]: d["spec"] for d in _json(e2e, "volumestatus")}  # type: ignore[index]
    assert set(docs) == {"STATE", "EPHEMERAL"}
    assert docs["STATE"] == {"phase": "ready", "type": "directory",
                             "location": str(node.root / "system/state"),
                             "mountLocation": str(node.root / "system/state"),
                             "mountSpec": {"targetPath": "/system/state", "selinuxLabel": "",
                                           "projectQuotaSupport": False}}
    assert docs["EPHEMERAL"]["mountSpec"]["targetPath"] == "/var"  # type: ignore[index]


def test_disks_are_the_kernels_block_devices(e2e: E2ECluster) -> None:
    _, rows, out = _get(e2e, "disks")
    with_medium = {n for n in os.listdir("/sys/block")
                   if int(Path(f"/sys/block/{n}/size").read_text()) > 0}
    assert {r[3] for r in rows} == with_medium, out
    assert {r[1] for r in rows} == {"runtime"}
    _, vols, out = _get(e2e, "discoveredvolumes")
    assert with_medium <= {r[3] for r in vols}, out
