"""Run by tests/integration/machined/test_machine_network.py inside a network namespace of
its own (`unshare --net`): the network controllers against the real kernel. Exits non-zero
with the failed assertion on stderr. `static`: a config's address, route and MTU applied and
removed. `dhcp`: a lease from busybox udhcpd (beside, in a second namespace at the other end
of a veth pair) applied, then renewed at T1."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time

from talos.cosi.clock import FakeClock
from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.network.address_spec import AddressSpecController
from talos.machined.controllers.network.address_status import AddressStatusController
from talos.machined.controllers.network.config_controllers import (
    AddressConfigController,
    LinkConfigController,
    RouteConfigController,
)
from talos.machined.controllers.network.dhcp_operator import DHCPOperatorController
from talos.machined.controllers.network.link_spec import LinkSpecController
from talos.machined.controllers.network.link_status import LinkStatusController
from talos.machined.controllers.network.merge import merge_controllers
from talos.machined.controllers.network.route_spec import RouteSpecController
from talos.machined.controllers.network.route_status import RouteStatusController
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import ADDRESS_STATUS, LINK_STATUS, ROUTE_STATUS
from tests.unit.controllers.configs import machine_config


def ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True).stdout


def pipeline(*extra: object) -> tuple:
    return (LinkStatusController(), AddressStatusController(), RouteStatusController(),
            AddressConfigController(), RouteConfigController(), LinkConfigController(),
            *merge_controllers(), LinkSpecController(), AddressSpecController(),
            RouteSpecController(), *extra)


async def static() -> None:
    ip("link", "set", "lo", "up")
    ip("link", "add", "v0", "type", "veth", "peer", "name", "v1")
    ip("link", "set", "v1", "up")
    async with ControllerHarness(*pipeline()) as h:
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config({"machine": {"network": {
            "interfaces": [{"interface": "v0", "mtu": 1400, "addresses": ["192.168.50.2/24"],
                            "routes": [{"network": "10.77.0.0/16",
                                        "gateway": "192.168.50.1"}]}]}}}))
        await h.until_output(LINK_STATUS, "v0",
                             lambda s: s.mtu == 1400 and "UP" in s.flags.split(","))
        await h.until_output(ADDRESS_STATUS, "v0/192.168.50.2/24")
        await h.until_output(ROUTE_STATUS, "inet4/192.168.50.1/10.77.0.0/16/1024")
        # what the kernel says, not only what the controllers publish
        shown = ip("-4", "route", "show", "10.77.0.0/16")
        assert "via 192.168.50.1 dev v0" in shown and "metric 1024" in shown, shown

        # removed from the kernel by hand: put back
        ip("addr", "del", "192.168.50.2/24", "dev", "v0")
        await h.until_output(ADDRESS_STATUS, "v0/192.168.50.2/24")

        # the config moves to another address: the old one and its route go
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config({"machine": {"network": {
            "interfaces": [{"interface": "v0", "addresses": ["192.168.51.2/24"]}]}}}))
        await h.until_output(ADDRESS_STATUS, "v0/192.168.51.2/24")
        await h.until_gone(ADDRESS_STATUS, "v0/192.168.50.2/24")
        await h.until_gone(ROUTE_STATUS, "inet4/192.168.50.1/10.77.0.0/16/1024")


UDHCPD_CONF = """start 192.168.60.10
end 192.168.60.20
interface v1
lease_file {dir}/udhcpd.leases
pidfile {dir}/udhcpd.pid
option subnet 255.255.255.0
option router 192.168.60.1
option lease 600
"""


def start_server(tmp: str) -> subprocess.Popen[bytes]:
    """udhcpd in a namespace of its own, serving on v1 (moved there from this namespace)."""
    conf = os.path.join(tmp, "udhcpd.conf")
    with open(conf, "w") as f:
        f.write(UDHCPD_CONF.format(dir=tmp))
    open(os.path.join(tmp, "udhcpd.leases"), "w").close()
    # the server's namespace: waits for its end of the veth, then serves on it
    script = ("while ! ip link show v1 >/dev/null 2>&1; do sleep 0.05; done; "
              "ip link set lo up; ip addr add 192.168.60.1/24 dev v1; ip link set v1 up; "
              f"exec busybox udhcpd -f {conf}")
    server = subprocess.Popen(["unshare", "--net", "sh", "-c", script],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        mine = os.readlink("/proc/self/ns/net")
        while os.readlink(f"/proc/{server.pid}/ns/net") == mine:
            time.sleep(0.01)
        ip("link", "add", "v0", "type", "veth", "peer", "name", "v1")
        ip("link", "set", "v1", "netns", str(server.pid))
    except BaseException:
        server.kill()
        server.wait()
        raise
    return server


async def dhcp() -> None:
    ip("link", "set", "lo", "up")
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(tmp)
        try:
            clock = FakeClock(start=time.monotonic())
            operator = DHCPOperatorController(monotonic=clock.monotonic)
            async with ControllerHarness(*pipeline(operator), clock=clock) as h:
                await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config({"machine": {"network": {
                    "interfaces": [{"interface": "v0", "dhcp": True}]}}}))
                first = await h.until("a lease", lambda: operator.held.get("v0"))
                assert first.lease.server == "192.168.60.1", first
                leased = first.lease.address
                assert leased.startswith("192.168.60."), first
                await h.until_output(ADDRESS_STATUS, f"v0/{leased}/24")
                await h.until_output(ROUTE_STATUS, "inet4/192.168.60.1//1024")
                await h.settled()
                # T1: a unicast REQUEST from the leased address, acknowledged by the server
                await h.advance(300, sleepers=1)
                await h.until("the renewed lease", lambda: operator.held["v0"].obtained
                              > first.obtained or None)
                assert operator.held["v0"].lease.address == leased
        finally:
            server.kill()
            out = server.communicate()[0].decode(errors="replace")
        assert server.returncode is not None, out


if __name__ == "__main__":
    asyncio.run({"static": static, "dhcp": dhcp}[sys.argv[1]]())
