"""network.RouteStatusController: the routes the kernel has, every table (`get routes`).

One `RouteStatus` per route, id as upstream's RouteID (`[table/][link/]family/gw/dst/metric`:
the table only when not `main`, the link only for inet6, empty gateway/destination for
none), read with rtnetlink (pyroute2, in a thread) on every route event (`netlink_events`)
and re-read slowly as a safety net.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.network.netlink_events import ROUTES, netlink_events
from talos.machinery import nethelpers as nh
from talos.machinery.resources.network import ROUTE_STATUS, RouteStatusSpec

#: re-read even without events this often (seconds)
RESYNC = 60.0
RTAX_MTU = "RTAX_MTU"


def route_spec(msg: Mapping[str, Any], links: Mapping[int, str]) -> RouteStatusSpec:
    """One RTM_NEWROUTE message (pyroute2's form) -> RouteStatus spec."""
    a = dict(msg.get("attrs", ()))
    dst = str(a.get("RTA_DST") or "")
    oif = int(a.get("RTA_OIF") or 0)
    metrics = dict(a["RTA_METRICS"].get("attrs", ())) if a.get("RTA_METRICS") else {}
    return RouteStatusSpec(
        family=nh.name(nh.FAMILIES, int(msg.get("family", 0))),
        destination=f"{dst}/{int(msg.get('dst_len', 0))}" if dst else "",
        source=str(a.get("RTA_PREFSRC") or ""), gateway=str(a.get("RTA_GATEWAY") or ""),
        out_link_index=oif, out_link_name=links.get(oif, ""),
        table=nh.name(nh.ROUTING_TABLES, int(a.get("RTA_TABLE") or msg.get("table", 0))),
        priority=int(a.get("RTA_PRIORITY") or 0),
        scope=nh.name(nh.SCOPES, int(msg.get("scope", 0))),
        type=nh.name(nh.ROUTE_TYPES, int(msg.get("type", 0))),
        flags=nh.flags_text(nh.ROUTE_FLAGS, int(msg.get("flags", 0)), nh.ROUTE_FLAGS_SHIFT),
        protocol=nh.name(nh.ROUTE_PROTOCOLS, int(msg.get("proto", 0))),
        mtu=int(metrics.get(RTAX_MTU) or 0))


def route_id(s: RouteStatusSpec) -> str:
    """Upstream's RouteID for a route."""
    prefix = "" if s.table == "main" else f"{s.table}/"
    if s.family == "inet6":
        prefix += f"{s.out_link_name}/"
    return f"{prefix}{s.family}/{s.gateway}/{s.destination}/{s.priority}"


def read_routes() -> dict[str, RouteStatusSpec]:
    """Every route of this network namespace by id (blocking: call in a thread)."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        links = {int(m["index"]): str(m.get_attr("IFLA_IFNAME")) for m in ipr.get_links()}
        msgs = [*ipr.route("dump", family=2), *ipr.route("dump", family=10)]
    specs = (route_spec(m, links) for m in msgs)
    return {route_id(s): s for s in specs}


class RouteStatusController:
    name = "network.RouteStatusController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(ROUTE_STATUS),)

    async def run(self, r: ControllerContext) -> None:
        ns, rtype = ROUTE_STATUS.default_namespace, ROUTE_STATUS.type
        with netlink_events(ROUTES, r.wake):
            async for _ in r.wake_ups():
                routes = await asyncio.to_thread(read_routes)
                r.start_tracking_outputs()
                for id_, spec in routes.items():
                    await r.put(ns, rtype, id_, spec)
                await r.cleanup_outputs()
                r.requeue_after(RESYNC)
