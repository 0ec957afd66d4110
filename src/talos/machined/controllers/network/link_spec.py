"""network.LinkSpecController: the merged LinkSpecs applied to the kernel: each named
link up (or down when its spec says so) with its MTU (0 keeps the kernel's). Logical links
(bonds, VLANs, bridges) are not created yet. rtnetlink through pyroute2, in a thread; a
link that is not there yet is set when its link event wakes the controller.
"""

from __future__ import annotations

import asyncio
import logging

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.network.netlink_events import LINKS, netlink_events
from talos.machinery.resources.network import LINK_SPEC, LinkSpecSpec

log = logging.getLogger("talos.machined.network")

RESYNC = 60.0
IFF_UP = 0x1


def sync_links(want: list[LinkSpecSpec]) -> None:
    """Set each wanted link's state and MTU where they differ (blocking)."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    with IPRoute() as ipr:
        have = {str(m.get_attr("IFLA_IFNAME")): m for m in ipr.get_links()}
        for spec in want:
            link = have.get(spec.name)
            if link is None:
                continue
            changes: dict[str, object] = {}
            if spec.mtu and int(link.get_attr("IFLA_MTU") or 0) != spec.mtu:
                changes["mtu"] = spec.mtu
            if bool(int(link["flags"]) & IFF_UP) != spec.up:
                changes["state"] = "up" if spec.up else "down"
            if not changes:
                continue
            try:
                ipr.link("set", index=int(link["index"]), **changes)
                log.info("network: link %s: %s (layer %s)", spec.name,
                         ", ".join(f"{k} {v}" for k, v in changes.items()), spec.config_layer)
            except NetlinkError as exc:
                log.warning("network: cannot set link %s (%s): %s", spec.name, changes,
                            exc.args[-1] if exc.args else exc)


class LinkSpecController:
    name = "network.LinkSpecController"
    inputs: tuple[Input, ...] = (Input.of(LINK_SPEC),)
    outputs: tuple[Output, ...] = ()

    async def run(self, r: ControllerContext) -> None:
        with netlink_events(LINKS, r.wake):
            async for _ in r.wake_ups():
                want = [res.spec for res in await r.list(LINK_SPEC.default_namespace,
                                                         LINK_SPEC.type)]
                await asyncio.to_thread(sync_links, want)
                r.requeue_after(RESYNC)
