"""network.NodeAddressController: the node's addresses (`talosctl get nodeaddresses`).

Read from the kernel (the node's network namespace) every `POLL` seconds, in a thread:
`default` is the first address, `current` and `routed` every non-loopback address, and
`accumulative` every address seen since boot.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable

import psutil

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.cosi.resource import Pointer
from talos.machinery.resources.network import NODE_ADDRESS, NodeAddressSpec

POLL = 5.0


def current_prefixes() -> list[str]:
    out: list[str] = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family not in (socket.AF_INET, socket.AF_INET6) or not a.netmask:
                continue
            addr = a.address.split("%", 1)[0]
            ip = ipaddress.ip_address(addr)
            if ip.is_loopback or ip.is_link_local:
                continue
            mask = a.netmask.split("/", 1)[0]
            prefix = bin(int(ipaddress.ip_address(mask))).count("1")
            out.append(f"{addr}/{prefix}")
    return sorted(set(out), key=lambda p: (":" in p, p))


class NodeAddressController:
    name = "network.NodeAddressController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(NODE_ADDRESS),)

    def __init__(self, poll: float = POLL,
                 read: Callable[[], list[str]] = current_prefixes) -> None:
        self.poll = poll
        #: the kernel's addresses as prefixes (called in a thread); tests pass their own
        self.read = read
        self._seen: list[str] = []

    async def run(self, r: ControllerContext) -> None:
        ns, rtype = NODE_ADDRESS.default_namespace, NODE_ADDRESS.type
        async for _ in r.wake_ups():
            current = await asyncio.to_thread(self.read)
            for p in current:
                if p not in self._seen:
                    self._seen.append(p)
            cur = tuple(current)
            if cur:
                await r.put(ns, rtype, "default", NodeAddressSpec(cur[:1]))
            elif await r.get(ns, rtype, "default") is not None:
                await r.destroy(Pointer(ns, rtype, "default"))
            await r.put(ns, rtype, "current", NodeAddressSpec(cur))
            await r.put(ns, rtype, "routed", NodeAddressSpec(cur))
            await r.put(ns, rtype, "accumulative", NodeAddressSpec(tuple(self._seen)))
            r.requeue_after(self.poll)
