"""network.AddressStatusController: the addresses the kernel has (`talosctl get addresses`).

One `AddressStatus` per address (id `<link>/<address>/<prefix length>`, as upstream's
AddressID), read with rtnetlink (pyroute2, in a thread) on every address event
(`netlink_events`) and re-read slowly as a safety net.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.network.netlink_events import ADDRESSES, netlink_events
from talos.machinery import nethelpers as nh
from talos.machinery.resources.network import ADDRESS_STATUS, AddressStatusSpec

#: re-read even without events this often (seconds)
RESYNC = 60.0


def address_spec(msg: Mapping[str, Any], links: Mapping[int, str]) -> AddressStatusSpec:
    """One RTM_NEWADDR message (pyroute2's form) -> AddressStatus spec."""
    a = dict(msg.get("attrs", ()))
    index = int(msg.get("index", 0))
    flags = int(a.get("IFA_FLAGS") or msg.get("flags", 0))
    addr = str(a.get("IFA_ADDRESS") or a.get("IFA_LOCAL") or "")
    return AddressStatusSpec(
        address=f"{addr}/{int(msg.get('prefixlen', 0))}" if addr else "",
        local=str(a.get("IFA_LOCAL") or ""), broadcast=str(a.get("IFA_BROADCAST") or ""),
        anycast=str(a.get("IFA_ANYCAST") or ""), multicast=str(a.get("IFA_MULTICAST") or ""),
        link_index=index, link_name=links.get(index, ""),
        family=nh.name(nh.FAMILIES, int(msg.get("family", 0))),
        scope=nh.name(nh.SCOPES, int(msg.get("scope", 0))),
        flags=nh.flags_text(nh.ADDRESS_FLAGS, flags),
        priority=int(a.get("IFA_RT_PRIORITY") or 0))


def read_addresses() -> dict[str, AddressStatusSpec]:
    """Every address of this network namespace by id (blocking: call in a thread)."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        links = {int(m["index"]): str(m.get_attr("IFLA_IFNAME")) for m in ipr.get_links()}
        specs = [address_spec(m, links) for m in ipr.get_addr()]
    return {f"{s.link_name}/{s.address}": s for s in specs if s.address}


class AddressStatusController:
    name = "network.AddressStatusController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(ADDRESS_STATUS),)

    async def run(self, r: ControllerContext) -> None:
        ns, rtype = ADDRESS_STATUS.default_namespace, ADDRESS_STATUS.type
        with netlink_events(ADDRESSES, r.wake):
            async for _ in r.wake_ups():
                addresses = await asyncio.to_thread(read_addresses)
                r.start_tracking_outputs()
                for id_, spec in addresses.items():
                    await r.put(ns, rtype, id_, spec)
                await r.cleanup_outputs()
                r.requeue_after(RESYNC)
