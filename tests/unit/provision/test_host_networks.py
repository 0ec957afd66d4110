"""The overlap check reads the host through `ip -j`; it must see what netlink sees.

Runs in a fresh network namespace (`unshare --net`, root only) with addresses and routes of
every kind the check treats differently (connected, host, other table, blackhole, /32).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from talos.provision import network

SCRIPT = r"""
import shutil, subprocess
from talos.provision import network as n
for cmd in ("link add d0 type bridge", "link set d0 up", "addr add 10.77.0.1/24 dev d0",
            "route add 10.78.0.0/16 dev d0", "route add 10.79.1.1 dev d0",
            "route add blackhole 10.80.0.0/16", "route add 10.81.0.0/16 via 10.77.0.2 table 100",
            "addr add 10.82.3.4/32 dev d0"):
    subprocess.run(["ip", *cmd.split()], check=True)
via_ip = sorted(map(repr, n._host_ipv4_networks_ip()))
shutil.which = lambda name: None  # host_ipv4_networks falls back to netlink (pyroute2)
via_netlink = sorted(map(repr, n.host_ipv4_networks()))
assert via_ip == via_netlink, (via_ip, via_netlink)
print("\n".join(via_ip))
"""

# a private network namespace
pytestmark = pytest.mark.requires("root", "unshare", "ip")


def test_ip_json_and_netlink_agree_on_host_networks() -> None:
    res = subprocess.run(["unshare", "--net", sys.executable, "-c", SCRIPT],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert "Occupant(network=IPv4Network('10.78.0.0/16'), link='d0', what='route')" in lines
    assert "Occupant(network=IPv4Network('10.82.3.4/32'), link='d0', what='address')" in lines
    assert not any("10.80.0.0" in line for line in lines)  # blackhole: carries nothing away


CLAIM = r"""
import ipaddress
from talos.machinery.errors import FailedPrecondition
from talos.provision import network as n
cidr = ipaddress.IPv4Network("10.77.0.0/24")
first = n.ClusterNetwork("first", cidr)
n.create_bridge(first)
try:
    n.create_bridge(n.ClusterNetwork("second", cidr))
except FailedPrecondition as e:
    print("refused:", e)
with n._iproute() as ipr:
    print("links:", sorted(l.get_attr("IFLA_IFNAME") for l in ipr.get_links()))
"""


def test_a_bridge_is_refused_a_cidr_another_cluster_took_after_the_first_check() -> None:
    """Two creates with one CIDR both pass the early check; the second bridge must not be
    made (it would route the same subnet as the first)."""
    res = subprocess.run(["unshare", "--net", sys.executable, "-c", CLAIM],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    first, second = (network.bridge_name(c) for c in ("first", "second"))
    assert f"refused: --cidr 10.77.0.0/24 overlaps address 10.77.0.0/24 on link {first}" \
        in res.stdout, res.stdout
    assert f"links: ['lo', '{first}']" in res.stdout, res.stdout
    assert second not in res.stdout.split("links:")[1]
