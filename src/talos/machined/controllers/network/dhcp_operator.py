"""network.OperatorSpecController (its DHCPv4 operator): a lease on every link that should
run DHCP (`config_specs.dhcp_links`: interfaces with `dhcp: true`; with none configured
and no static `ip=`, the first physical link), kept by renewing it.

A link is served once it is up (the link controllers bring it up). The lease's address and
default route become AddressSpec/RouteSpec in `network-config`, layer `operator` (ids
`operator/eth0/10.0.2.15/24`, as upstream's), which the merge and spec controllers apply.
The lease is renewed at T1 (unicast to its server), rebound at T2 (broadcast), and dropped
at its end (its address goes away, a new DISCOVER follows); a failed renewal is retried after
half the time left to the next of those marks, at least `MIN_RETRY` seconds (RFC 2131
4.4.5). A link that stops being a DHCP link loses its lease's address. The boot's lease
(taken by `metal.configure_network` before machined ran, recorded in /run) is adopted, not
taken again. DHCP's hostname and DNS servers are not applied here (the boot sets the
hostname); DHCPv6 is not done. Links are served one after the other: a DISCOVER nobody
answers holds the others back for its timeout (30 s).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output, OutputKind
from talos.machined.controllers.network.config_controllers import config_and_links
from talos.machined.controllers.network.config_specs import dhcp_links, route
from talos.machined.platform.dhcp import Lease
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import (
    ADDRESS_SPEC,
    CONFIG_NAMESPACE,
    LINK_STATUS,
    ROUTE_SPEC,
    AddressSpecSpec,
)

log = logging.getLogger("talos.machined.network")

#: after a DISCOVER nobody answered, try again after this long
RETRY = 10.0
#: a failed renewal is retried no sooner than this (RFC 2131 4.4.5: 60 s)
MIN_RETRY = 60.0
LAYER = "operator"


class Client(Protocol):
    """The DHCP exchanges (blocking: run in a thread); tests pass their own."""

    def acquire(self, ifname: str, mac: bytes) -> Lease | None: ...

    def renew(self, ifname: str, mac: bytes, lease: Lease, broadcast: bool) -> Lease | None: ...


class SocketClient:
    """platform/dhcp.py over the link's UDP sockets."""

    def acquire(self, ifname: str, mac: bytes) -> Lease | None:
        from talos.machined.platform import dhcp

        return dhcp.acquire(ifname, mac)

    def renew(self, ifname: str, mac: bytes, lease: Lease, broadcast: bool) -> Lease | None:
        from talos.machined.platform import dhcp

        return dhcp.renew(ifname, mac, lease, broadcast=broadcast)


@dataclass(frozen=True)
class Held:
    lease: Lease
    #: when the lease was granted (monotonic seconds)
    obtained: float
    #: when to ask the server next (T1 at first; later the retry of a failed renewal)
    next_try: float

    @classmethod
    def granted(cls, lease: Lease, now: float) -> Held:
        return cls(lease, now, now + lease.t1)

    @property
    def expires(self) -> float:
        return self.obtained + self.lease.lease_s

    @property
    def rebind_at(self) -> float:
        return self.obtained + self.lease.t2


def _mac(text: str) -> bytes:
    try:
        return bytes.fromhex(text.replace(":", ""))
    except ValueError:
        return b""


class DHCPOperatorController:
    name = "network.OperatorSpecController"
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID), Input.of(LINK_STATUS))
    outputs: tuple[Output, ...] = (Output.of(ADDRESS_SPEC, OutputKind.SHARED),
                                   Output.of(ROUTE_SPEC, OutputKind.SHARED))

    def __init__(self, cmdline: str = "", client: Client | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 boot_leases: Mapping[str, tuple[Lease, float]] | None = None) -> None:
        self.cmdline = cmdline
        self.client: Client = client or SocketClient()
        #: the runtime's clock (tests pass their fake clock's)
        self.monotonic = monotonic
        #: link -> lease held
        self.held: dict[str, Held] = {
            link: Held.granted(lease, obtained)
            for link, (lease, obtained) in (boot_leases or {}).items()}

    async def _serve(self, link: str, mac: bytes, now: float) -> float:
        """Take, keep or retake the link's lease; when to look at it again."""
        held = self.held.get(link)
        if held is not None and now >= held.expires:
            log.warning("network: the DHCP lease of %s on %s ran out", held.lease.address, link)
            del self.held[link]
            held = None
        if held is None:
            lease = await asyncio.to_thread(self.client.acquire, link, mac)
            if lease is None:
                log.warning("network: no DHCP server answered on %s", link)
                return now + RETRY
            now = self.monotonic()
            self.held[link] = held = Held.granted(lease, now)
            log.info("network: DHCP lease %s/%d on %s from %s for %ds", lease.address,
                     lease.prefixlen, link, lease.server, lease.lease_s)
            return held.next_try
        if now < held.next_try:
            return held.next_try
        rebinding = now >= held.rebind_at
        lease = await asyncio.to_thread(self.client.renew, link, mac, held.lease, rebinding)
        now = self.monotonic()
        if lease is not None:
            self.held[link] = held = Held.granted(lease, now)
            log.info("network: DHCP lease %s on %s %s for %ds", lease.address, link,
                     "rebound" if rebinding else "renewed", lease.lease_s)
            return held.next_try
        mark = held.expires if rebinding else held.rebind_at
        retry = min(mark, now + max(MIN_RETRY, (mark - now) / 2))
        self.held[link] = Held(held.lease, held.obtained, retry)
        log.warning("network: DHCP server %s did not renew %s on %s; next try in %.0fs",
                    held.lease.server, held.lease.address, link, retry - now)
        return retry

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            tree, links = await config_and_links(r)
            wanted = dhcp_links(tree, self.cmdline, links)
            for link in [n for n in self.held if n not in wanted]:
                log.info("network: %s no longer runs DHCP: dropping its lease", link)
                del self.held[link]
            wake_at: float | None = None
            for link in wanted:
                status = links.get(link)
                if status is None or "UP" not in status.flags.split(","):
                    continue  # a link event wakes us when it is up
                at = await self._serve(link, _mac(status.hardware_addr), self.monotonic())
                wake_at = at if wake_at is None else min(wake_at, at)
            r.start_tracking_outputs()
            for link, held in self.held.items():
                lease = held.lease
                text = f"{lease.address}/{lease.prefixlen}"
                await r.put(CONFIG_NAMESPACE, ADDRESS_SPEC.type, f"{LAYER}/{link}/{text}",
                            AddressSpecSpec(address=text, link_name=link, config_layer=LAYER))
                if lease.gateway:
                    key, spec = route(link, LAYER, gateway=lease.gateway, protocol="dhcp")
                    await r.put(CONFIG_NAMESPACE, ROUTE_SPEC.type, key, spec)
            await r.cleanup_outputs()
            if wake_at is not None:
                r.requeue_after(max(0.0, wake_at - self.monotonic()))
