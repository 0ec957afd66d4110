"""The local cluster's network: one bridge on the host, one veth per node.

The bridge is named `talos<8 hex of sha256(cluster name)>` (15 characters at most, stable for
a cluster name, so `destroy` finds it even without a state file) and holds the first address
of the CIDR (`.1`). Each node gets a veth pair: the host end (`tv<8 hex>`, enslaved to the
bridge) and the node end, moved into the node's network namespace, renamed `eth0` and
configured there with the node's address and a default route via the bridge.

Before anything is created the CIDR is checked against every IPv4 route and address already
on the host: an overlap would silently steal traffic, so it is refused with the conflicting
link named and a free alternative suggested. The check is made again when the bridge takes
the CIDR, under a host-wide lock (`NETWORK_LOCK`): two creates started at once with the same
CIDR cannot both pass the first check and end up with two bridges routing one subnet.
Only links this module named are ever removed.

pyroute2 is synchronous: call these from a thread when an event loop is running. It is
imported on first use (it takes most of a second): the overlap check and `link_exists` read
the host through iproute2's `ip -j` and sysfs instead, so `cluster create` gets its nodes
starting before pyroute2 is loaded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from talos.machinery.errors import FailedPrecondition, InvalidArgument

if TYPE_CHECKING:
    from pyroute2 import IPRoute


def _iproute(**kw: Any) -> IPRoute:
    from pyroute2 import IPRoute

    return IPRoute(**kw)

BRIDGE_PREFIX = "talos"
#: held from "is the CIDR free?" to "the bridge has its address" (every talosctl on the host)
NETWORK_LOCK = "/run/lock/talosctl-cluster-network.lock"
VETH_PREFIX = "tv"
NODE_IFNAME = "eth0"


def _hex8(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def bridge_name(cluster: str) -> str:
    return f"{BRIDGE_PREFIX}{_hex8(cluster)}"


def host_veth_name(cluster: str, node: str) -> str:
    return f"{VETH_PREFIX}{_hex8(cluster + '/' + node)}"


def parse_cidr(cidr: str) -> ipaddress.IPv4Network:
    try:
        loose = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise InvalidArgument(f"--cidr: {cidr!r} is not a CIDR (expected e.g. 10.5.0.0/24)"
                              ) from None
    if not isinstance(loose, ipaddress.IPv4Network):
        raise InvalidArgument(f"--cidr: {cidr!r}: only IPv4 networks are supported")
    if loose.network_address != ipaddress.ip_interface(cidr).ip:
        raise InvalidArgument(f"--cidr: {cidr!r} has host bits set (did you mean {loose}?)")
    if loose.prefixlen > 29:
        raise InvalidArgument(f"--cidr: {cidr!r} is too small (at most /29: the bridge "
                              "takes .1 and nodes start at .2)")
    return loose


@dataclass(frozen=True)
class ClusterNetwork:
    cluster: str
    cidr: ipaddress.IPv4Network

    @property
    def bridge(self) -> str:
        return bridge_name(self.cluster)

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        return self.cidr.network_address + 1

    def node_address(self, index: int) -> ipaddress.IPv4Address:
        """Address of the index-th node (control planes first): .2, .3, …"""
        addr = self.cidr.network_address + 2 + index
        if addr >= self.cidr.broadcast_address:
            raise InvalidArgument(f"--cidr {self.cidr} has no room for node #{index + 1} "
                                  f"(the last usable address is {self.cidr.broadcast_address - 1})")
        return addr


# -- overlap detection -------------------------------------------------------------------------

@dataclass(frozen=True)
class Occupant:
    network: ipaddress.IPv4Network
    link: str
    what: str  # "route" or "address"

    def describe(self) -> str:
        return f"{self.what} {self.network} on link {self.link}"


def host_ipv4_networks() -> list[Occupant]:
    """Every IPv4 route (all tables, default routes excluded) and address on the host."""
    if shutil.which("ip") is not None:
        return _host_ipv4_networks_ip()
    out: list[Occupant] = []
    with _iproute() as ipr:
        names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
        for addr in ipr.get_addr(family=socket.AF_INET):
            ip = addr.get_attr("IFA_ADDRESS")
            if ip is None or ip.startswith("127."):
                continue
            out.append(Occupant(ipaddress.IPv4Network(f"{ip}/{addr['prefixlen']}", strict=False),
                                names.get(addr["index"], f"#{addr['index']}"), "address"))
        for route in ipr.get_routes(family=socket.AF_INET):
            if route["dst_len"] == 0:
                continue
            dst = route.get_attr("RTA_DST")
            if dst is None or dst.startswith("127.") or route["type"] not in (1,):
                continue  # only unicast routes carry traffic away (not local/broadcast)
            oif = route.get_attr("RTA_OIF")
            link = names.get(oif, f"#{oif}") if oif is not None else "(gateway route)"
            out.append(Occupant(ipaddress.IPv4Network(f"{dst}/{route['dst_len']}", strict=False),
                                link, "route"))
    return out


def _ip_json(*args: str) -> list[dict[str, Any]]:
    res = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=False,
                         timeout=30)
    if res.returncode != 0:
        raise FailedPrecondition(f"`ip -j {' '.join(args)}` failed: {res.stderr.strip()}")
    data = json.loads(res.stdout or "[]")
    return data if isinstance(data, list) else []


def _host_ipv4_networks_ip() -> list[Occupant]:
    """host_ipv4_networks through iproute2's JSON output (same selection as netlink)."""
    out: list[Occupant] = []
    for link in _ip_json("-4", "addr", "show"):
        for a in link.get("addr_info") or ():
            ip = a.get("local")
            if a.get("family") != "inet" or not ip or ip.startswith("127."):
                continue
            out.append(Occupant(ipaddress.IPv4Network(f"{ip}/{a.get('prefixlen', 32)}",
                                                      strict=False),
                                str(link.get("ifname") or f"#{link.get('ifindex')}"),
                                "address"))
    for route in _ip_json("-4", "route", "show", "table", "all"):
        dst = str(route.get("dst") or "")
        # only unicast routes carry traffic away (`ip` names every other type)
        if not dst or dst == "default" or route.get("type", "unicast") != "unicast":
            continue
        network = ipaddress.IPv4Network(dst if "/" in dst else f"{dst}/32", strict=False)
        if network.prefixlen == 0 or dst.startswith("127."):
            continue
        out.append(Occupant(network, str(route.get("dev") or "(gateway route)"), "route"))
    return out


def conflicts(cidr: ipaddress.IPv4Network, occupants: list[Occupant]) -> list[Occupant]:
    return [o for o in occupants if o.network.overlaps(cidr)]


def free_alternative(cidr: ipaddress.IPv4Network, occupants: list[Occupant]
                     ) -> ipaddress.IPv4Network | None:
    """The next network of the same size in 10.0.0.0/8 that overlaps nothing on the host
    (searching upwards from `cidr`, wrapping around once)."""
    pool = ipaddress.IPv4Network("10.0.0.0/8")
    size = cidr.num_addresses
    lo, hi = int(pool.network_address), int(pool.broadcast_address)
    start = int(cidr.network_address) + size if cidr.subnet_of(pool) else lo
    candidate, wrapped = start, False
    while True:
        if candidate + size - 1 > hi:
            if wrapped:
                return None
            candidate, wrapped = lo, True
        if wrapped and candidate >= start:
            return None
        net = ipaddress.IPv4Network((candidate, cidr.prefixlen))
        hit = conflicts(net, occupants)
        if not hit and net != cidr:
            return net
        # skip past whatever is in the way, staying aligned to the network size
        end = max([int(o.network.broadcast_address) for o in hit] + [candidate])
        candidate = (end // size + 1) * size


def check_cidr_free(cidr: ipaddress.IPv4Network) -> None:
    """Raise FailedPrecondition naming the conflicting link(s) and a free alternative."""
    occupants = host_ipv4_networks()
    found = conflicts(cidr, occupants)
    if not found:
        return
    alt = free_alternative(cidr, occupants)
    hint = f"; try --cidr {alt}" if alt else ""
    raise FailedPrecondition(
        f"--cidr {cidr} overlaps {', '.join(o.describe() for o in found)} already on this "
        f"host{hint}")


# -- bridge and veths ------------------------------------------------------------------------

def _index(ipr: IPRoute, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return int(found[0]) if found else None


@contextlib.contextmanager
def network_lock() -> Iterator[None]:
    """The host-wide lock serializing CIDR claims between concurrent `cluster create`s."""
    path = NETWORK_LOCK
    if not os.path.isdir(os.path.dirname(path)):
        path = os.path.join(tempfile.gettempdir(), os.path.basename(path))
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def create_bridge(net: ClusterNetwork) -> str:
    """Create the cluster's bridge with the gateway address; fails if it already exists or
    if the CIDR was taken since the first check (by another cluster created meanwhile)."""
    with network_lock(), _iproute() as ipr:
        if _index(ipr, net.bridge) is not None:
            raise FailedPrecondition(f"link {net.bridge} already exists (a cluster named "
                                     f"{net.cluster!r} is running or left debris: "
                                     f"`talosctl cluster destroy --name {net.cluster}`)")
        check_cidr_free(net.cidr)
        ipr.link("add", ifname=net.bridge, kind="bridge")
        idx = _index(ipr, net.bridge)
        assert idx is not None
        ipr.addr("add", index=idx, address=str(net.gateway), prefixlen=net.cidr.prefixlen)
        ipr.link("set", index=idx, state="up")
    return net.bridge


def attach_node(net: ClusterNetwork, node: str, pid: int,
                address: ipaddress.IPv4Address) -> str:
    """Give the node (network namespace of `pid`) its eth0 on the bridge; returns the host
    end's name."""
    host_end = host_veth_name(net.cluster, node)
    peer_tmp = f"tn{host_end[len(VETH_PREFIX):]}"
    with _iproute() as ipr:
        bridge = _index(ipr, net.bridge)
        if bridge is None:
            raise FailedPrecondition(f"bridge {net.bridge} is missing")
        ipr.link("add", ifname=host_end, kind="veth", peer=peer_tmp)
        host_idx = _index(ipr, host_end)
        peer_idx = _index(ipr, peer_tmp)
        assert host_idx is not None and peer_idx is not None
        ipr.link("set", index=host_idx, master=bridge)
        ipr.link("set", index=host_idx, state="up")
        ipr.link("set", index=peer_idx, net_ns_pid=pid)
    with _iproute(netns=f"/proc/{pid}/ns/net") as inner:
        lo = _index(inner, "lo")
        if lo is not None:
            inner.link("set", index=lo, state="up")
        idx = _index(inner, peer_tmp)
        if idx is None:
            raise FailedPrecondition(f"node {node}: {peer_tmp} did not arrive in its namespace")
        inner.link("set", index=idx, ifname=NODE_IFNAME)
        inner.addr("add", index=idx, address=str(address), prefixlen=net.cidr.prefixlen)
        inner.link("set", index=idx, state="up")
        inner.route("add", dst="0.0.0.0/0", gateway=str(net.gateway), oif=idx)
    return host_end


def attach_tap(net: ClusterNetwork, node: str) -> str:
    """Make a VM node's persistent tap device (qemu opens it by name) on the bridge, up.
    It takes the name a sandbox node's host veth end would, so removing links works the
    same for both; returns it."""
    name = host_veth_name(net.cluster, node)
    with _iproute() as ipr:
        bridge = _index(ipr, net.bridge)
        if bridge is None:
            raise FailedPrecondition(f"bridge {net.bridge} is missing")
        ipr.link("add", ifname=name, kind="tuntap", mode="tap")
        idx = _index(ipr, name)
        assert idx is not None
        ipr.link("set", index=idx, master=bridge)
        ipr.link("set", index=idx, state="up")
    return name


def delete_link(name: str) -> bool:
    """Remove a link by name if it exists (only names this module made are passed here)."""
    if not (name.startswith(BRIDGE_PREFIX) or name.startswith(VETH_PREFIX)):
        raise InvalidArgument(f"refusing to delete link {name!r}: not made by talosctl")
    from pyroute2.netlink.exceptions import NetlinkError

    with _iproute() as ipr:
        idx = _index(ipr, name)
        if idx is None:
            return False
        with contextlib.suppress(NetlinkError):
            ipr.link("del", index=idx)
            return True
    return False


def link_exists(name: str) -> bool:
    """A link of this name in the host's network namespace (sysfs lists them all)."""
    if os.path.isdir("/sys/class/net"):
        return os.path.lexists(f"/sys/class/net/{name}")
    with _iproute() as ipr:
        return _index(ipr, name) is not None


def links_named(prefix: str) -> Iterator[str]:
    with _iproute() as ipr:
        names = [link.get_attr("IFLA_IFNAME") for link in ipr.get_links()]
    yield from (n for n in names if n and n.startswith(prefix))
