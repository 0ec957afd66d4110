"""The `network` namespace (the subset declared so far).

Names, aliases, print columns and YAML field names follow siderolabs/talos v1.13.9
(`pkg/machinery/resources/network`). Kernel constants are kept as Talos prints them
(`talos.machinery.nethelpers`): `type: ether`, `operationalState: up`, `family: inet4`.
Addresses are text (`10.5.0.2/24`, `10.5.0.1`; an absent one is "").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from talos.machinery.resources.definition import PrintColumn, ResourceType, declare


@dataclass(frozen=True)
class HostnameStatusSpec:
    hostname: str = ""
    domainname: str = ""


HOSTNAME_STATUS = declare(ResourceType(
    "HostnameStatuses.net.talos.dev", "network", HostnameStatusSpec,
    aliases=("hostname",),
    print_columns=(PrintColumn("Hostname", "{.hostname}"),
                   PrintColumn("Domainname", "{.domainname}"))))


@dataclass(frozen=True)
class TimeServerStatusSpec:
    """The NTP servers the node uses (`talosctl get timeservers`)."""

    time_servers: tuple[str, ...] = ()


TIME_SERVER_STATUS = declare(ResourceType(
    "TimeServerStatuses.net.talos.dev", "network", TimeServerStatusSpec,
    aliases=("timeserver", "timeservers"),
    print_columns=(PrintColumn("Timeservers", "{.timeServers}"),)))


@dataclass(frozen=True)
class NodeAddressSpec:
    """The node's addresses as prefixes (ids `default`, `current`, `routed`,
    `accumulative`)."""

    addresses: tuple[str, ...] = ()
    #: `v1` or `v2` (nethelpers.AddressSortAlgorithm)
    sort_algorithm: str = "v1"


NODE_ADDRESS = declare(ResourceType(
    "NodeAddresses.net.talos.dev", "network", NodeAddressSpec,
    print_columns=(PrintColumn("Addresses", "{.addresses}"),
                   PrintColumn("SortAlgorithm", "{.sortAlgorithm}"))))


def _omit(yaml: str | None = None) -> dict[str, Any]:
    """Field metadata: left out of YAML when empty (Go's `omitempty`), optional YAML name."""
    return {"omitempty": True, **({"yaml": yaml} if yaml else {})}


@dataclass(frozen=True)
class HostnameSpecSpec:
    """The hostname the node should have and the layer it came from (`layer`: default,
    cmdline, platform, operator, configuration)."""

    hostname: str = ""
    domainname: str = ""
    config_layer: str = field(default="default", metadata={"yaml": "layer"})


HOSTNAME_SPEC = declare(ResourceType(
    "HostnameSpecs.net.talos.dev", "network", HostnameSpecSpec))


@dataclass(frozen=True)
class VLANSpec:
    vlan_id: int = field(default=0, metadata={"yaml": "vlanID"})
    #: `802.1q` or `802.1ad`
    protocol: str = field(default="", metadata={"yaml": "vlanProtocol"})


@dataclass(frozen=True)
class STPSpec:
    enabled: bool = False


@dataclass(frozen=True)
class BridgeVLANSpec:
    filtering_enabled: bool = field(default=False, metadata={"yaml": "filteringEnabled"})


@dataclass(frozen=True)
class BridgeMasterSpec:
    stp: STPSpec = STPSpec()
    vlan: BridgeVLANSpec = BridgeVLANSpec()


@dataclass(frozen=True)
class LinkStatusSpec:
    """A link as the kernel reports it (rtnetlink, plus sysfs where Talos uses ethtool).

    Bond, VRF and WireGuard details are not read yet (left out, as for a plain link).
    """

    alias: str = field(default="", metadata=_omit())
    alt_names: tuple[str, ...] = field(default=(), metadata=_omit())
    index: int = 0
    type: str = "netrom"
    link_index: int = 0
    flags: str = ""
    hardware_addr: str = ""
    permanent_addr: str = ""
    broadcast_addr: str = ""
    mtu: int = 0
    queue_disc: str = ""
    master_index: int = field(default=0, metadata=_omit())
    operational_state: str = "unknown"
    kind: str = ""
    slave_kind: str = ""
    bus_path: str = field(default="", metadata=_omit())
    pciid: str = field(default="", metadata=_omit("pciID"))
    driver: str = field(default="", metadata=_omit())
    driver_version: str = field(default="", metadata=_omit())
    firmware_version: str = field(default="", metadata=_omit())
    product_id: str = field(default="", metadata=_omit("productID"))
    vendor_id: str = field(default="", metadata=_omit("vendorID"))
    product: str = field(default="", metadata=_omit())
    vendor: str = field(default="", metadata=_omit())
    link_state: bool = False
    speed_megabits: int = field(default=0, metadata=_omit("speedMbit"))
    port: str = "TwistedPair"
    duplex: str = "Half"
    vlan: VLANSpec | None = field(default=None, metadata=_omit())
    bridge_master: BridgeMasterSpec | None = field(default=None, metadata=_omit())


LINK_STATUS = declare(ResourceType(
    "LinkStatuses.net.talos.dev", "network", LinkStatusSpec,
    aliases=("link", "links"),
    print_columns=(PrintColumn("Alias", "{.alias}"), PrintColumn("Type", "{.type}"),
                   PrintColumn("Kind", "{.kind}"), PrintColumn("Hw Addr", "{.hardwareAddr}"),
                   PrintColumn("Oper State", "{.operationalState}"),
                   PrintColumn("Link State", "{.linkState}"))))


@dataclass(frozen=True)
class AddressStatusSpec:
    """An address the kernel has on a link (id `<link>/<address>`)."""

    address: str = ""
    local: str = field(default="", metadata=_omit())
    broadcast: str = field(default="", metadata=_omit())
    anycast: str = field(default="", metadata=_omit())
    multicast: str = field(default="", metadata=_omit())
    link_index: int = 0
    link_name: str = ""
    family: str = ""
    scope: str = "global"
    flags: str = ""
    priority: int = 0


ADDRESS_STATUS = declare(ResourceType(
    "AddressStatuses.net.talos.dev", "network", AddressStatusSpec,
    aliases=("address", "addresses"),
    print_columns=(PrintColumn("Address", "{.address}"), PrintColumn("Link", "{.linkName}"))))


@dataclass(frozen=True)
class RouteStatusSpec:
    """A route the kernel has (id as upstream's RouteID: `[table/][link/]family/gw/dst/metric`)."""

    family: str = ""
    destination: str = field(default="", metadata={"yaml": "dst"})
    source: str = field(default="", metadata={"yaml": "src"})
    gateway: str = ""
    out_link_index: int = field(default=0, metadata=_omit())
    out_link_name: str = field(default="", metadata=_omit())
    table: str = "main"
    priority: int = 0
    scope: str = "global"
    type: str = "unicast"
    flags: str = ""
    protocol: str = "unspec"
    mtu: int = field(default=0, metadata=_omit())


ROUTE_STATUS = declare(ResourceType(
    "RouteStatuses.net.talos.dev", "network", RouteStatusSpec,
    aliases=("route", "routes"),
    print_columns=(PrintColumn("Destination", "{.dst}"), PrintColumn("Gateway", "{.gateway}"),
                   PrintColumn("Link", "{.outLinkName}"),
                   PrintColumn("Metric", "{.priority}"))))


@dataclass(frozen=True)
class ResolverStatusSpec:
    """The DNS servers and search domains the node uses (id `resolvers`)."""

    dns_servers: tuple[str, ...] = field(default=(), metadata={"yaml": "dnsServers"})
    search_domains: tuple[str, ...] = ()


RESOLVER_STATUS = declare(ResourceType(
    "ResolverStatuses.net.talos.dev", "network", ResolverStatusSpec,
    aliases=("resolvers",),
    print_columns=(PrintColumn("Resolvers", "{.dnsServers}"),
                   PrintColumn("Search Domains", "{.searchDomains}"))))
