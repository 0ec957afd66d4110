"""The overlap check reads the host through `ip -j`; it must see what netlink sees.

Runs in a fresh network namespace (`unshare --net`, root only) with addresses and routes of
every kind the check treats differently (connected, host, other table, blackhole, /32).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

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
