"""A VM's place on the cluster bridge: its MAC address and the kernel's `ip=` argument
(the tap device itself is made by `talos.provision.network.attach_tap`)."""

from __future__ import annotations

import hashlib
import ipaddress

from talos.provision import network

#: the guest's NIC as the kernel names it (the VM has exactly one)
GUEST_IFNAME = "eth0"


def mac_address(cluster: str, node: str) -> str:
    """A stable, locally administered unicast MAC for the node (qemu's own default is the
    same for every VM, which a bridge cannot tell apart)."""
    h = hashlib.sha256(f"{cluster}/{node}".encode()).digest()
    return "52:54:" + ":".join(f"{b:02x}" for b in h[:4])


def ip_argument(net: network.ClusterNetwork, address: ipaddress.IPv4Address,
                hostname: str) -> str:
    """The kernel's `ip=<client>::<gateway>:<netmask>:<hostname>:<device>:off`."""
    return (f"ip={address}::{net.gateway}:{net.cidr.netmask}:{hostname}:"
            f"{GUEST_IFNAME}:off")
