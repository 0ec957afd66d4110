"""A sandbox node publishes its own network namespace: its veth `eth0` with the cluster
address, and an address added inside its namespace appears in `talosctl get addresses`
(the controller follows rtnetlink events)."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

import pytest
from pyroute2 import IPRoute

from tests.e2e.cluster.conftest import Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.root]

MakeCluster = Callable[[str], Cluster]


def _ids(c: Cluster, node: str, what: str) -> tuple[set[str], str]:
    r = c.talosctl("-n", node, "get", what)
    assert r.returncode == 0, r.stderr
    return {ln.split()[3] for ln in r.stdout.splitlines()[1:] if ln.strip()}, r.stdout


def test_sandbox_node_shows_its_own_links_and_follows_a_new_address(
        make_cluster: MakeCluster) -> None:
    c = make_cluster("e2e-net")
    res = c.create("--workers", "0")
    assert res.returncode == 0, res.stderr[-3000:]
    cp = str(ipaddress.IPv4Network(c.cidr).network_address + 2)
    node = c.record().nodes[0]

    links, out = _ids(c, cp, "links")
    assert links == {"lo", "eth0"}, out
    addresses, out = _ids(c, cp, "addresses")
    assert f"eth0/{cp}/24" in addresses, out
    routes, out = _ids(c, cp, "routes")
    assert any(r.startswith(f"inet4//{c.cidr}/") for r in routes), out
    r = c.talosctl("-n", cp, "get", "nodeaddresses", "current")
    assert r.returncode == 0 and f"{cp}/24" in r.stdout, r.stderr

    extra = "192.0.2.77/32"
    with IPRoute(netns=f"/proc/{node.pid}/ns/net") as ipr:
        eth0 = ipr.link_lookup(ifname="eth0")[0]
        ipr.addr("add", index=eth0, address="192.0.2.77", prefixlen=32)
    # the node keeps running; no pass of a poll interval is waited for, the event wakes it
    deadline = time.monotonic() + 120
    while f"eth0/{extra}" not in addresses and time.monotonic() < deadline:
        time.sleep(0.2)
        addresses, out = _ids(c, cp, "addresses")
    assert f"eth0/{extra}" in addresses, out
