"""Talos's text names for netlink numbers, as its network resources print them.

Upstream (siderolabs/talos v1.13.9 `pkg/machinery/nethelpers`) renders kernel constants in
resource YAML by name: link type `ether`, operational state `up`, address family `inet4`,
scope `global`, route table `main`, flags as `UP,BROADCAST,...`. Each table here maps the
kernel number to that name; `number(table, name)` goes back (for `proto_spec`, which carries
the numbers). Unknown numbers print as the number, as Go's enumer does (`LinkType(9999)`
prints `LinkType(9999)`; we print the bare number, the only form we ever read back).
"""

from __future__ import annotations

from collections.abc import Mapping

from talos.machinery.errors import InvalidArgument

#: ARPHRD_* -> name (if_arp.h); 513 is both cisco and hdlc upstream, cisco listed first
LINK_TYPES: Mapping[int, str] = {
    0: "netrom", 1: "ether", 2: "eether", 3: "ax25", 4: "pronet", 5: "chaos", 6: "ieee802",
    7: "arcnet", 8: "atalk", 15: "dlci", 19: "atm", 23: "metricom", 24: "ieee1394",
    27: "eui64", 32: "infiniband", 256: "slip", 257: "cslip", 258: "slip6", 259: "cslip6",
    260: "rsrvd", 264: "adapt", 270: "rose", 271: "x25", 272: "hwx25", 280: "can",
    512: "ppp", 513: "cisco", 516: "lapb", 517: "ddcmp", 518: "rawhdlc", 768: "ipip",
    769: "tunnel6", 770: "frad", 771: "skip", 772: "loopback", 773: "localtlk", 774: "fddi",
    775: "bif", 776: "sit", 777: "ip/ddp", 778: "gre", 779: "pimreg", 780: "hippi",
    781: "ash", 782: "econet", 783: "irda", 784: "fcpp", 785: "fcal", 786: "fcpl",
    **{787 + i: f"fcfb_{i}" for i in range(13)},
    800: "tr", 801: "ieee802.11", 802: "ieee802.11_prism", 803: "ieee802.11_radiotap",
    804: "ieee802.15.4", 805: "ieee802.15.4_monitor", 820: "phonet", 821: "phonet_pipe",
    822: "caif", 823: "ip6gre", 824: "netlink", 825: "6lowpan", 65534: "nohdr",
    65535: "void",
}

#: IF_OPER_* (RFC 2863) -> name
OPER_STATES: Mapping[int, str] = {
    0: "unknown", 1: "notPresent", 2: "down", 3: "lowerLayerDown", 4: "testing",
    5: "dormant", 6: "up",
}

#: ethtool PORT_* -> name
PORTS: Mapping[int, str] = {
    0: "TwistedPair", 1: "AUI", 2: "MII", 3: "Fibre", 4: "BNC", 5: "DirectAttach",
    239: "None", 255: "Other",
}

#: ethtool DUPLEX_* -> name
DUPLEXES: Mapping[int, str] = {0: "Half", 1: "Full", 255: "Unknown"}

#: AF_* -> name
FAMILIES: Mapping[int, str] = {2: "inet4", 10: "inet6"}

#: RT_SCOPE_* -> name
SCOPES: Mapping[int, str] = {0: "global", 200: "site", 253: "link", 254: "host",
                             255: "nowhere"}

#: RTN_* -> name
ROUTE_TYPES: Mapping[int, str] = dict(enumerate(
    ("unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole",
     "unreachable", "prohibit", "throw", "nat", "xresolve")))

#: RTPROT_* -> name
ROUTE_PROTOCOLS: Mapping[int, str] = {
    0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 9: "ra", 10: "mrt",
    11: "zebra", 12: "bird", 13: "dnrouted", 14: "xorp", 15: "ntk", 16: "dhcp", 17: "mrtd",
    18: "keepalived", 42: "babel", 99: "openr", 186: "bgp", 187: "isis", 188: "ospf",
    189: "rip", 192: "eigrp",
}

#: RT_TABLE_* -> name (tables 1..252 are their number)
ROUTING_TABLES: Mapping[int, str] = {
    0: "unspec", **{i: str(i) for i in range(1, 253)}, 253: "default", 254: "main",
    255: "local",
}

#: network.ConfigLayer -> name
CONFIG_LAYERS: Mapping[int, str] = dict(enumerate(
    ("default", "cmdline", "platform", "operator", "configuration")))

#: nethelpers.AddressSortAlgorithm -> name
ADDRESS_SORT_ALGORITHMS: Mapping[int, str] = {0: "v1", 1: "v2"}

#: IFF_* bits, lowest first
LINK_FLAGS: tuple[str, ...] = (
    "UP", "BROADCAST", "DEBUG", "LOOPBACK", "POINTTOPOINT", "NOTRAILERS", "RUNNING", "NOARP",
    "PROMISC", "ALLMULTI", "MASTER", "SLAVE", "MULTICAST", "PORTSEL", "AUTOMEDIA", "DYNAMIC",
    "LOWER_UP", "DORMANT", "ECHO")

#: IFA_F_* bits, lowest first
ADDRESS_FLAGS: tuple[str, ...] = (
    "temporary", "nodad", "optimistic", "dadfailed", "homeaddress", "deprecated",
    "tentative", "permanent", "mngmtmpaddr", "noprefixroute", "mcautojoin", "stableprivacy")

#: RTM_F_* bits from 0x100 up
ROUTE_FLAGS: tuple[str, ...] = (
    "notify", "cloned", "equalize", "prefix", "lookup_table", "fib_match", "offload", "trap")
ROUTE_FLAGS_SHIFT = 8


def name(table: Mapping[int, str], value: int) -> str:
    """The Talos name of a kernel number (the number itself when Talos has no name)."""
    return table.get(value, str(value))


def number(table: Mapping[int, str], text: str, where: str) -> int:
    """The kernel number of a Talos name (or of a bare number), for `proto_spec`."""
    if text == "":
        return 0
    for k, v in table.items():
        if v == text:
            return k
    if text.isdigit():
        return int(text)
    raise InvalidArgument(
        f"{where}: expected one of {', '.join(sorted(set(table.values()))[:12])}…, "
        f"got {text!r}")


def flags_text(bits: tuple[str, ...], value: int, shift: int = 0) -> str:
    """Set bits as Talos joins them: `UP,BROADCAST,RUNNING` (empty when none is set)."""
    return ",".join(n for i, n in enumerate(bits) if value & (1 << (i + shift)))


def flags_value(bits: tuple[str, ...], text: str, where: str, shift: int = 0) -> int:
    """`flags_text` read back into the number."""
    value = 0
    for part in filter(None, text.split(",")):
        if part not in bits:
            raise InvalidArgument(f"{where}: unknown flag {part!r}")
        value |= 1 << (bits.index(part) + shift)
    return value
