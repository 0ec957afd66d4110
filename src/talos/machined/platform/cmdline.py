"""The kernel command line's arguments machined reads on a machine: `ip=` (nfsroot.txt's
`ip=<client>::<gateway>:<netmask>:<hostname>:<device>:<autoconf>`, as upstream Talos reads
it) and `name=value` lookups (`talos.config=`)."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

log = logging.getLogger("talos.machined.metal")

CMDLINE = "/proc/cmdline"


def read(path: str = CMDLINE) -> str:
    """The kernel command line; empty when it cannot be read."""
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


@dataclass(frozen=True)
class IpArg:
    address: str
    prefixlen: int
    gateway: str | None
    hostname: str | None
    device: str | None


def parse_ip_arg(cmdline: str) -> IpArg | None:
    """The static part of the kernel's `ip=` argument; None when absent or dynamic
    (`ip=dhcp`) or not an address."""
    for word in cmdline.split():
        if not word.startswith("ip="):
            continue
        fields = (word[3:].split(":") + [""] * 7)[:7]
        client, _server, gateway, netmask, hostname, device, _autoconf = fields
        if not client:
            return None
        try:
            addr = ipaddress.ip_address(client)
            prefix = (ipaddress.ip_network(f"0.0.0.0/{netmask}").prefixlen if netmask
                      else (24 if addr.version == 4 else 64))
        except ValueError:
            log.warning("ignoring the kernel argument %s: not an address and netmask", word)
            return None
        return IpArg(str(addr), prefix, gateway or None, hostname or None, device or None)
    return None


def kernel_arg(cmdline: str, name: str) -> str | None:
    """The value of the last `name=value` on the kernel command line (the kernel's rule)."""
    value = None
    for word in cmdline.split():
        key, sep, val = word.partition("=")
        if sep and key == name:
            value = val
    return value
