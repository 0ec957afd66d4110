"""network.AddressSpecController: the merged AddressSpecs applied to the kernel.

Each pass (on a spec change, on a link or address event from the kernel, and slowly as a
safety net) adds every wanted address whose link exists and removes the addresses it
managed whose spec went away. An address already in the kernel when its spec appears (the
boot's `ip=` or DHCP lease, a re-executed machined) is adopted, not re-added. Addresses no
spec ever named are left alone. rtnetlink through pyroute2, in a thread.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.network.netlink_events import ADDRESSES, LINKS, netlink_events
from talos.machinery.resources.network import ADDRESS_SPEC, AddressSpecSpec

log = logging.getLogger("talos.machined.network")

#: re-apply even without events this often (seconds)
RESYNC = 60.0


def sync_addresses(want: dict[str, AddressSpecSpec], managed: dict[str, AddressSpecSpec]
                   ) -> dict[str, AddressSpecSpec]:
    """Make the kernel have `want` and no longer have what `managed` has and `want` lacks;
    returns what is managed now (blocking: call in a thread)."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    now: dict[str, AddressSpecSpec] = {}
    with IPRoute() as ipr:
        index = {str(m.get_attr("IFLA_IFNAME")): int(m["index"]) for m in ipr.get_links()}
        for id_, spec in managed.items():
            if id_ in want or spec.link_name not in index:
                continue
            iface = ipaddress.ip_interface(spec.address)
            try:
                ipr.addr("del", index=index[spec.link_name], address=str(iface.ip),
                         prefixlen=iface.network.prefixlen)
                log.info("network: removed %s from %s", spec.address, spec.link_name)
            except NetlinkError as exc:
                if exc.code not in (errno.EADDRNOTAVAIL, errno.ENODEV):
                    now[id_] = spec  # try again on the next pass
        for id_, spec in want.items():
            if spec.link_name not in index:
                continue  # the link may come later: a link event wakes the controller
            iface = ipaddress.ip_interface(spec.address)
            try:
                ipr.addr("add", index=index[spec.link_name], address=str(iface.ip),
                         prefixlen=iface.network.prefixlen)
                log.info("network: added %s to %s (layer %s)", spec.address, spec.link_name,
                         spec.config_layer)
            except NetlinkError as exc:
                if exc.code != errno.EEXIST:
                    log.warning("network: cannot add %s to %s: %s", spec.address,
                                spec.link_name, exc.args[-1] if exc.args else exc)
                    continue
            now[id_] = spec
    return now


class AddressSpecController:
    name = "network.AddressSpecController"
    inputs: tuple[Input, ...] = (Input.of(ADDRESS_SPEC),)
    outputs: tuple[Output, ...] = ()

    def __init__(self) -> None:
        self.managed: dict[str, AddressSpecSpec] = {}

    async def run(self, r: ControllerContext) -> None:
        with netlink_events(LINKS | ADDRESSES, r.wake):
            async for _ in r.wake_ups():
                want = {res.id: res.spec for res in await r.list(
                    ADDRESS_SPEC.default_namespace, ADDRESS_SPEC.type)}
                self.managed = await asyncio.to_thread(sync_addresses, want, self.managed)
                r.requeue_after(RESYNC)
