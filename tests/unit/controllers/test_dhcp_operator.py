"""network.OperatorSpecController's DHCPv4 operator: a lease on the links that should run
DHCP, renewed at T1 (unicast), rebound at T2 (broadcast), retaken when it ran out; its
address and default route published as `operator`-layer specs. The DHCP exchanges are a
fake here (tests/integration/machined/test_machine_network.py runs the real ones against
a DHCP server in a network namespace); time is the harness's fake clock."""

from __future__ import annotations

from dataclasses import replace

from talos.cosi.clock import FakeClock
from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.network.dhcp_operator import DHCPOperatorController
from talos.machined.platform.dhcp import Lease
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import (
    ADDRESS_SPEC,
    CONFIG_NAMESPACE,
    LINK_STATUS,
    ROUTE_SPEC,
    LinkStatusSpec,
)
from tests.unit.controllers.configs import machine_config

LEASE = Lease(address="10.0.2.15", prefixlen=24, gateway="10.0.2.2", hostname=None, dns=(),
              server="10.0.2.2", lease_s=600)
NS = CONFIG_NAMESPACE


class FakeServer:
    def __init__(self, h_changed: list) -> None:
        self.calls: list[tuple[str, str, bool]] = []
        self.answer: Lease | None = LEASE
        self._changed = h_changed

    def acquire(self, ifname: str, mac: bytes) -> Lease | None:
        self.calls.append(("acquire", ifname, False))
        return self.answer

    def renew(self, ifname: str, mac: bytes, lease: Lease, broadcast: bool) -> Lease | None:
        self.calls.append(("renew", ifname, broadcast))
        return self.answer


def _link(index: int, up: bool = True) -> LinkStatusSpec:
    return LinkStatusSpec(index=index, type="ether", hardware_addr=f"52:54:00:00:00:0{index}",
                          flags="UP,BROADCAST" if up else "BROADCAST")


async def test_first_link_gets_a_lease_that_is_renewed_at_t1_and_rebound_at_t2() -> None:
    clock = FakeClock()
    server = FakeServer([])
    async with ControllerHarness(DHCPOperatorController(client=server,
                                                        monotonic=clock.monotonic),
                                 clock=clock) as h:
        await h.put(LINK_STATUS, "eth1", _link(3))
        await h.put(LINK_STATUS, "eth0", _link(2))
        await h.until_output(ADDRESS_SPEC, "operator/eth0/10.0.2.15/24", namespace=NS)
        route = await h.until_output(ROUTE_SPEC, "operator/inet4/10.0.2.2//1024", namespace=NS)
        assert route.spec.protocol == "dhcp" and route.spec.out_link_name == "eth0"
        await h.settled()
        assert server.calls == [("acquire", "eth0", False)]  # only the first physical link

        await h.advance(299)
        await h.settled()
        assert len(server.calls) == 1  # T1 (half the lease) not reached yet
        await h.advance(1)
        await h.until("the renewal at T1", lambda: len(server.calls) == 2 or None)
        assert server.calls[1] == ("renew", "eth0", False)

        # the server stops answering: retried (after 60 s at least), then rebound at T2
        server.answer = None
        await h.settled()
        await h.advance(300)
        await h.until("a second renewal", lambda: len(server.calls) == 3 or None)
        await h.settled()
        await h.advance(150)
        await h.until("a retry", lambda: len(server.calls) == 4 or None)
        assert server.calls[3] == ("renew", "eth0", False)
        await h.settled()
        await h.advance(75)  # T2 = 7/8 of the lease after the last grant
        await h.until("the rebinding", lambda: len(server.calls) == 5 or None)
        assert server.calls[4] == ("renew", "eth0", True)
        # still the lease's address while it lasts
        assert h.get(ADDRESS_SPEC, "operator/eth0/10.0.2.15/24", namespace=NS) is not None

        # the lease runs out: its address goes, and a new DISCOVER gets a new one
        server.answer = replace(LEASE, address="10.0.2.16")
        await h.settled()
        await h.advance(75)
        await h.until_output(ADDRESS_SPEC, "operator/eth0/10.0.2.16/24", namespace=NS)
        await h.until_gone(ADDRESS_SPEC, "operator/eth0/10.0.2.15/24", namespace=NS)
        assert server.calls[-1] == ("acquire", "eth0", False)


async def test_dhcp_follows_the_config_and_waits_for_the_link_to_be_up() -> None:
    clock = FakeClock()
    server = FakeServer([])
    async with ControllerHarness(DHCPOperatorController(client=server,
                                                        monotonic=clock.monotonic),
                                 clock=clock) as h:
        await h.put(LINK_STATUS, "eth0", _link(2))
        await h.put(LINK_STATUS, "eth1", _link(3, up=False))
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config({"machine": {"network": {
            "interfaces": [{"interface": "eth0", "addresses": ["192.168.1.5/24"]},
                           {"interface": "eth1", "dhcp": True}]}}}))
        await h.settled()
        assert h.outputs(ADDRESS_SPEC, namespace=NS) == {}  # eth1 is down; eth0 is static
        await h.put(LINK_STATUS, "eth1", _link(3))
        await h.until_output(ADDRESS_SPEC, "operator/eth1/10.0.2.15/24", namespace=NS)
        # the interface no longer asks for DHCP: the lease's specs go
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config({"machine": {"network": {
            "interfaces": [{"interface": "eth1", "addresses": ["192.168.2.5/24"]}]}}}))
        await h.until_outputs(ADDRESS_SPEC, lambda o: not o, namespace=NS)
        await h.until_outputs(ROUTE_SPEC, lambda o: not o, namespace=NS)


async def test_boot_lease_is_adopted_not_taken_again_and_no_dhcp_with_a_static_ip_arg(
) -> None:
    clock = FakeClock(start=1000.0)
    server = FakeServer([])
    async with ControllerHarness(DHCPOperatorController(
            client=server, monotonic=clock.monotonic,
            boot_leases={"eth0": (LEASE, 900.0)}), clock=clock) as h:
        await h.put(LINK_STATUS, "eth0", _link(2))
        await h.until_output(ADDRESS_SPEC, "operator/eth0/10.0.2.15/24", namespace=NS)
        await h.settled()
        assert server.calls == []
        await h.advance(200)  # T1 of the boot's lease: 900 + 300
        await h.until("the renewal of the boot's lease", lambda: server.calls or None)
        assert server.calls == [("renew", "eth0", False)]

    server = FakeServer([])
    async with ControllerHarness(DHCPOperatorController(
            cmdline="ip=10.5.0.2::10.5.0.1:255.255.255.0::eth0:off", client=server,
            monotonic=clock.monotonic), clock=clock) as h:
        await h.put(LINK_STATUS, "eth0", _link(2))
        await h.settled()
        assert server.calls == [] and h.outputs(ADDRESS_SPEC, namespace=NS) == {}


def test_boot_lease_record_round_trips_through_run(tmp_path) -> None:
    import json

    from talos.machined.platform import metal

    lease = replace(LEASE, dns=("10.0.2.3",), renewal_s=100.0)
    (tmp_path / "eth0.json").write_text(json.dumps({"lease": lease.to_json(),
                                                    "obtained": 12.5}))
    (tmp_path / "eth1.json").write_text("{not json")
    assert metal.boot_leases(str(tmp_path)) == {"eth0": (lease, 12.5)}
    assert lease.t1 == 100.0 and lease.t2 == 525.0


def test_renewal_request_comes_from_the_leased_address_without_the_broadcast_flag() -> None:
    import socket
    import struct

    from talos.machined.platform import dhcp

    renewal = dhcp.message(dhcp.REQUEST, 7, b"\x52\x54\x00\x00\x00\x02", ciaddr="10.0.2.15")
    _op, _htype, _hlen, _hops, xid, _secs, flags, ciaddr = struct.unpack_from(
        "!BBBBIHH4s", renewal)
    assert (xid, flags, socket.inet_ntoa(ciaddr)) == (7, 0, "10.0.2.15")
    discover = dhcp.message(dhcp.DISCOVER, 8, b"\x52\x54\x00\x00\x00\x02")
    assert struct.unpack_from("!H", discover, 10)[0] == 0x8000
