"""network.ResolverStatusController: the DNS resolvers the node uses (`get resolvers`).

The node does not manage its own resolver configuration yet, so what is in effect is the
`resolv.conf` it reads (in a sandbox, the host's, bound read-only): its `nameserver` and
`search` lines, re-read every `POLL` seconds in a thread. Id `resolvers`, as upstream.
"""

from __future__ import annotations

import asyncio
import ipaddress

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machinery.resources.network import RESOLVER_STATUS, ResolverStatusSpec

ID = "resolvers"
POLL = 30.0
RESOLV_CONF = "/etc/resolv.conf"


def parse_resolv_conf(text: str) -> ResolverStatusSpec:
    servers: list[str] = []
    search: list[str] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == "nameserver":
            try:
                servers.append(str(ipaddress.ip_address(words[1].split("%", 1)[0])))
            except ValueError:
                continue
        elif words and words[0] in ("search", "domain"):
            search = words[1:]
    return ResolverStatusSpec(dns_servers=tuple(servers), search_domains=tuple(search))


def read_resolv_conf(path: str = RESOLV_CONF) -> ResolverStatusSpec:
    try:
        with open(path) as f:
            return parse_resolv_conf(f.read())
    except OSError:
        return ResolverStatusSpec()


class ResolverStatusController:
    name = "network.ResolverStatusController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(RESOLVER_STATUS),)

    def __init__(self, path: str = RESOLV_CONF, poll: float = POLL) -> None:
        self.path = path
        self.poll = poll

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            spec = await asyncio.to_thread(read_resolv_conf, self.path)
            await r.put(RESOLVER_STATUS.default_namespace, RESOLVER_STATUS.type, ID, spec)
            r.requeue_after(self.poll)
