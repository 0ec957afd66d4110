"""network.RouteSpecController: the merged RouteSpecs applied to the kernel.

Each wanted route the kernel does not have yet is added once its link exists (a route the
boot added is adopted: never replaced, as a replace would raise a route event and wake the
controller again); a route the kernel refuses because its
gateway is not reachable yet (the address comes with the next pass) is retried on the
next address or link event. Routes it managed whose spec went away are deleted; routes no
spec named are left alone. rtnetlink through pyroute2, in a thread.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from typing import Any

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.network.netlink_events import (
    ADDRESSES,
    LINKS,
    ROUTES,
    netlink_events,
)
from talos.machinery import nethelpers as nh
from talos.machinery.resources.network import ROUTE_SPEC, RouteSpecSpec

log = logging.getLogger("talos.machined.network")

RESYNC = 60.0
#: a refused route is tried again after this long even without a kernel event
RETRY = 5.0


def _route_args(spec: RouteSpecSpec, oif: int) -> dict[str, Any]:
    args: dict[str, Any] = {
        "dst": spec.destination or "default",
        "oif": oif,
        "priority": spec.priority,
        "table": nh.number(nh.ROUTING_TABLES, spec.table, "RouteSpec.table"),
        "scope": nh.number(nh.SCOPES, spec.scope, "RouteSpec.scope"),
        "proto": nh.number(nh.ROUTE_PROTOCOLS, spec.protocol, "RouteSpec.protocol"),
        "family": 10 if spec.family == "inet6" else 2,
    }
    if spec.gateway:
        args["gateway"] = spec.gateway
    if spec.source:
        args["prefsrc"] = spec.source
    if spec.mtu:
        args["metrics"] = {"attrs": [("RTAX_MTU", spec.mtu)]}
    return args


def _key(msg: Any) -> tuple[Any, ...]:
    """What identifies a kernel route here: table, destination, gateway, link, metric."""
    a = dict(msg.get("attrs", ()))
    dst = a.get("RTA_DST")
    return (int(a.get("RTA_TABLE") or msg.get("table", 0)),
            f"{dst}/{msg.get('dst_len', 0)}" if dst else "default",
            str(a.get("RTA_GATEWAY") or ""), int(a.get("RTA_OIF") or 0),
            int(a.get("RTA_PRIORITY") or 0))


def _spec_key(args: dict[str, Any]) -> tuple[Any, ...]:
    return (args["table"], args["dst"], str(args.get("gateway", "")), args["oif"],
            args["priority"])


def sync_routes(want: dict[str, RouteSpecSpec], managed: dict[str, RouteSpecSpec],
                refused: frozenset[str] = frozenset()
                ) -> tuple[dict[str, RouteSpecSpec], frozenset[str]]:
    """(what is managed now, the wanted routes still missing) (blocking). A route refused
    again (in `refused`) is not logged again."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    now: dict[str, RouteSpecSpec] = {}
    missing: set[str] = set()
    with IPRoute() as ipr:
        index = {str(m.get_attr("IFLA_IFNAME")): int(m["index"]) for m in ipr.get_links()}
        have = {_key(m) for m in ipr.get_routes(family=2)} | {
            _key(m) for m in ipr.get_routes(family=10)}
        for id_, spec in managed.items():
            if id_ in want or spec.out_link_name not in index:
                continue
            try:
                ipr.route("del", **_route_args(spec, index[spec.out_link_name]))
                log.info("network: removed route %s", id_)
            except NetlinkError as exc:
                if exc.code not in (errno.ESRCH, errno.ENODEV):
                    now[id_] = spec
        for id_, spec in want.items():
            if spec.out_link_name not in index:
                missing.add(id_)
                continue
            args = _route_args(spec, index[spec.out_link_name])
            try:
                if _spec_key(args) not in have:
                    ipr.route("add", **args)
            except NetlinkError as exc:
                if exc.code == errno.EEXIST:
                    now[id_] = spec
                    continue
                missing.add(id_)
                if id_ not in refused:
                    log.info("network: route %s not applied yet: %s", id_,
                             exc.args[-1] if exc.args else exc)
                continue
            if id_ not in managed:
                log.info("network: route %s via %s (layer %s)", spec.destination or "default",
                         spec.gateway or spec.out_link_name, spec.config_layer)
            now[id_] = spec
    return now, frozenset(missing)


class RouteSpecController:
    name = "network.RouteSpecController"
    inputs: tuple[Input, ...] = (Input.of(ROUTE_SPEC),)
    outputs: tuple[Output, ...] = ()

    def __init__(self) -> None:
        self.managed: dict[str, RouteSpecSpec] = {}
        self.refused: frozenset[str] = frozenset()

    async def run(self, r: ControllerContext) -> None:
        with netlink_events(LINKS | ADDRESSES | ROUTES, r.wake):
            async for _ in r.wake_ups():
                want = {res.id: res.spec for res in await r.list(
                    ROUTE_SPEC.default_namespace, ROUTE_SPEC.type)}
                self.managed, self.refused = await asyncio.to_thread(
                    sync_routes, want, self.managed, self.refused)
                r.requeue_after(RETRY if self.refused else RESYNC)
