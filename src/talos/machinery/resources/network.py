"""The `network` namespace (the subset declared so far).

Names, aliases, print columns and YAML field names follow siderolabs/talos v1.13.9
(`pkg/machinery/resources/network`). Kernel constants are kept as Talos prints them
(`talos.machinery.nethelpers`): `type: ether`, `operationalState: up`, `family: inet4`.
Addresses are text (`10.5.0.2/24`, `10.5.0.1`; an absent one is "").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from talos.machinery.resources.definition import PrintColumn, ProtoSpec, ResourceType, declare

if TYPE_CHECKING:
    from google.protobuf.message import Message

#: the generated module of upstream's spec messages (imported by the converters)
_PB = "talos.api.resource.definitions.network.network_pb2"


@dataclass(frozen=True)
class HostnameStatusSpec:
    hostname: str = ""
    domainname: str = ""


def _hostname_status_proto(s: HostnameStatusSpec) -> Message:
    from talos.api.resource.definitions.network import network_pb2 as pb

    return pb.HostnameStatusSpec(hostname=s.hostname, domainname=s.domainname)


HOSTNAME_STATUS = declare(ResourceType(
    "HostnameStatuses.net.talos.dev", "network", HostnameStatusSpec,
    aliases=("hostname",),
    print_columns=(PrintColumn("Hostname", "{.hostname}"),
                   PrintColumn("Domainname", "{.domainname}")),
    proto=ProtoSpec(f"{_PB}:HostnameStatusSpec", _hostname_status_proto)))


@dataclass(frozen=True)
class TimeServerStatusSpec:
    """The NTP servers the node uses (`talosctl get timeservers`)."""

    time_servers: tuple[str, ...] = ()


def _time_server_status_proto(s: TimeServerStatusSpec) -> Message:
    from talos.api.resource.definitions.network import network_pb2 as pb

    return pb.TimeServerStatusSpec(ntp_servers=list(s.time_servers))


TIME_SERVER_STATUS = declare(ResourceType(
    "TimeServerStatuses.net.talos.dev", "network", TimeServerStatusSpec,
    aliases=("timeserver", "timeservers"),
    print_columns=(PrintColumn("Timeservers", "{.timeServers}"),),
    proto=ProtoSpec(f"{_PB}:TimeServerStatusSpec", _time_server_status_proto)))


@dataclass(frozen=True)
class NodeAddressSpec:
    """The node's addresses as prefixes (ids `default`, `current`, `routed`,
    `accumulative`)."""

    addresses: tuple[str, ...] = ()
    #: `v1` or `v2` (nethelpers.AddressSortAlgorithm)
    sort_algorithm: str = "v1"


def _node_address_proto(s: NodeAddressSpec) -> Message:
    from talos.api.resource.definitions.network import network_pb2 as pb
    from talos.machinery import nethelpers as nh
    from talos.machinery.resources import protoconv as pc

    return pb.NodeAddressSpec(
        addresses=[pc.net_ip_prefix(a, f"NodeAddress.addresses[{i}]")
                   for i, a in enumerate(s.addresses)],
        sort_algorithm=pc.number(nh.ADDRESS_SORT_ALGORITHMS, s.sort_algorithm,
                                 "NodeAddress.sortAlgorithm"))


NODE_ADDRESS = declare(ResourceType(
    "NodeAddresses.net.talos.dev", "network", NodeAddressSpec,
    print_columns=(PrintColumn("Addresses", "{.addresses}"),
                   PrintColumn("SortAlgorithm", "{.sortAlgorithm}")),
    proto=ProtoSpec(f"{_PB}:NodeAddressSpec", _node_address_proto)))


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


def _hostname_spec_proto(s: HostnameSpecSpec) -> Message:
    from talos.api.resource.definitions.network import network_pb2 as pb
    from talos.machinery import nethelpers as nh
    from talos.machinery.resources import protoconv as pc

    return pb.HostnameSpecSpec(
        hostname=s.hostname, domainname=s.domainname,
        config_layer=pc.number(nh.CONFIG_LAYERS, s.config_layer, "HostnameSpec.layer"))


HOSTNAME_SPEC = declare(ResourceType(
    "HostnameSpecs.net.talos.dev", "network", HostnameSpecSpec,
    proto=ProtoSpec(f"{_PB}:HostnameSpecSpec", _hostname_spec_proto)))


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


def _link_status_proto(s: LinkStatusSpec) -> Message:
    from talos.api.resource.definitions.network import network_pb2 as pb
    from talos.machinery import nethelpers as nh
    from talos.machinery.resources import protoconv as pc

    w = "LinkStatus"
    vlan = None if s.vlan is None else pb.VLANSpec(
        vid=s.vlan.vlan_id,
        protocol=pc.number({33024: "802.1q", 34984: "802.1ad"}, s.vlan.protocol,
                           f"{w}.vlan.vlanProtocol"))
    bridge = None if s.bridge_master is None else pb.BridgeMasterSpec(
        stp=pb.STPSpec(enabled=s.bridge_master.stp.enabled),
        vlan=pb.BridgeVLANSpec(filtering_enabled=s.bridge_master.vlan.filtering_enabled))
    return pb.LinkStatusSpec(
        index=s.index, type=pc.number(nh.LINK_TYPES, s.type, f"{w}.type"),
        link_index=s.link_index,
        flags=pc.flags(nh.LINK_FLAGS, s.flags, f"{w}.flags"),
        hardware_addr=pc.hardware_addr(s.hardware_addr, f"{w}.hardwareAddr"),
        broadcast_addr=pc.hardware_addr(s.broadcast_addr, f"{w}.broadcastAddr"),
        permanent_addr=pc.hardware_addr(s.permanent_addr, f"{w}.permanentAddr"),
        mtu=s.mtu, queue_disc=s.queue_disc, master_index=s.master_index,
        operational_state=pc.number(nh.OPER_STATES, s.operational_state,
                                    f"{w}.operationalState"),
        kind=s.kind, slave_kind=s.slave_kind, bus_path=s.bus_path, pciid=s.pciid,
        driver=s.driver, driver_version=s.driver_version,
        firmware_version=s.firmware_version, product_id=s.product_id,
        vendor_id=s.vendor_id, product=s.product, vendor=s.vendor, link_state=s.link_state,
        speed_megabits=s.speed_megabits, port=pc.number(nh.PORTS, s.port, f"{w}.port"),
        duplex=pc.number(nh.DUPLEXES, s.duplex, f"{w}.duplex"), vlan=vlan,
        bridge_master=bridge, alias=s.alias, alt_names=list(s.alt_names))


LINK_STATUS = declare(ResourceType(
    "LinkStatuses.net.talos.dev", "network", LinkStatusSpec,
    aliases=("link", "links"),
    print_columns=(PrintColumn("Alias", "{.alias}"), PrintColumn("Type", "{.type}"),
                   PrintColumn("Kind", "{.kind}"), PrintColumn("Hw Addr", "{.hardwareAddr}"),
                   PrintColumn("Oper State", "{.operationalState}"),
                   PrintColumn("Link State", "{.linkState}")),
    proto=ProtoSpec(f"{_PB}:LinkStatusSpec", _link_status_proto)))


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


def _address_status_proto(s: AddressStatusSpec) -> Message:
    from talos.api.resource.definitions.network import network_pb2 as pb
    from talos.machinery import nethelpers as nh
    from talos.machinery.resources import protoconv as pc

    w = "AddressStatus"
    return pb.AddressStatusSpec(
        address=pc.opt_prefix(s.address, f"{w}.address"),
        local=pc.opt_ip(s.local, f"{w}.local"),
        broadcast=pc.opt_ip(s.broadcast, f"{w}.broadcast"),
        anycast=pc.opt_ip(s.anycast, f"{w}.anycast"),
        multicast=pc.opt_ip(s.multicast, f"{w}.multicast"),
        link_index=s.link_index, link_name=s.link_name,
        family=pc.number(nh.FAMILIES, s.family, f"{w}.family"),
        scope=pc.number(nh.SCOPES, s.scope, f"{w}.scope"),
        flags=pc.flags(nh.ADDRESS_FLAGS, s.flags, f"{w}.flags"), priority=s.priority)


ADDRESS_STATUS = declare(ResourceType(
    "AddressStatuses.net.talos.dev", "network", AddressStatusSpec,
    aliases=("address", "addresses"),
    print_columns=(PrintColumn("Address", "{.address}"), PrintColumn("Link", "{.linkName}")),
    proto=ProtoSpec(f"{_PB}:AddressStatusSpec", _address_status_proto)))


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


def _route_status_proto(s: RouteStatusSpec) -> Message:
    from talos.api.resource.definitions.network import network_pb2 as pb
    from talos.machinery import nethelpers as nh
    from talos.machinery.resources import protoconv as pc

    w = "RouteStatus"
    return pb.RouteStatusSpec(
        family=pc.number(nh.FAMILIES, s.family, f"{w}.family"),
        destination=pc.opt_prefix(s.destination, f"{w}.dst"),
        source=pc.opt_ip(s.source, f"{w}.src"), gateway=pc.opt_ip(s.gateway, f"{w}.gateway"),
        out_link_index=s.out_link_index, out_link_name=s.out_link_name,
        table=pc.number(nh.ROUTING_TABLES, s.table, f"{w}.table"), priority=s.priority,
        scope=pc.number(nh.SCOPES, s.scope, f"{w}.scope"),
        type=pc.number(nh.ROUTE_TYPES, s.type, f"{w}.type"),
        flags=pc.flags(nh.ROUTE_FLAGS, s.flags, f"{w}.flags", nh.ROUTE_FLAGS_SHIFT),
        protocol=pc.number(nh.ROUTE_PROTOCOLS, s.protocol, f"{w}.protocol"), mtu=s.mtu)


ROUTE_STATUS = declare(ResourceType(
    "RouteStatuses.net.talos.dev", "network", RouteStatusSpec,
    aliases=("route", "routes"),
    print_columns=(PrintColumn("Destination", "{.dst}"), PrintColumn("Gateway", "{.gateway}"),
                   PrintColumn("Link", "{.outLinkName}"),
                   PrintColumn("Metric", "{.priority}")),
    proto=ProtoSpec(f"{_PB}:RouteStatusSpec", _route_status_proto)))


@dataclass(frozen=True)
class ResolverStatusSpec:
    """The DNS servers and search domains the node uses (id `resolvers`)."""

    dns_servers: tuple[str, ...] = field(default=(), metadata={"yaml": "dnsServers"})
    search_domains: tuple[str, ...] = ()


def _resolver_status_proto(s: ResolverStatusSpec) -> Message:
    from talos.api.resource.definitions.network import network_pb2 as pb
    from talos.machinery.resources import protoconv as pc

    return pb.ResolverStatusSpec(
        dns_servers=[pc.net_ip(a, f"ResolverStatus.dnsServers[{i}]")
                     for i, a in enumerate(s.dns_servers)],
        search_domains=list(s.search_domains))


RESOLVER_STATUS = declare(ResourceType(
    "ResolverStatuses.net.talos.dev", "network", ResolverStatusSpec,
    aliases=("resolvers",),
    print_columns=(PrintColumn("Resolvers", "{.dnsServers}"),
                   PrintColumn("Search Domains", "{.searchDomains}")),
    proto=ProtoSpec(f"{_PB}:ResolverStatusSpec", _resolver_status_proto)))


#: where the per-source specs live before they are merged (upstream's `network-config`)
CONFIG_NAMESPACE = "network-config"
#: config layers, lowest first: a higher layer wins when two specs have the same id
#: (nethelpers.CONFIG_LAYERS in order)
CONFIG_LAYERS = ("default", "cmdline", "platform", "operator", "configuration")


@dataclass(frozen=True)
class AddressSpecSpec:
    """An address the node should have (id `<link>/<address>/<prefix>`, as upstream's
    AddressID; in `network-config` prefixed with its layer: `configuration/eth0/...`)."""

    address: str = ""
    link_name: str = ""
    family: str = "inet4"
    scope: str = "global"
    flags: str = "permanent"
    announce_with_arp: bool = field(default=False, metadata=_omit("announceWithARP"))
    priority: int = field(default=0, metadata=_omit())
    config_layer: str = field(default="default", metadata={"yaml": "layer"})


def _address_spec_proto(s: AddressSpecSpec) -> Message:
    from talos.api.resource.definitions.network import network_pb2 as pb
    from talos.machinery import nethelpers as nh
    from talos.machinery.resources import protoconv as pc

    w = "AddressSpec"
    return pb.AddressSpecSpec(
        address=pc.opt_prefix(s.address, f"{w}.address"), link_name=s.link_name,
        family=pc.number(nh.FAMILIES, s.family, f"{w}.family"),
        scope=pc.number(nh.SCOPES, s.scope, f"{w}.scope"),
        flags=pc.flags(nh.ADDRESS_FLAGS, s.flags, f"{w}.flags"),
        announce_with_arp=s.announce_with_arp,
        config_layer=pc.number(nh.CONFIG_LAYERS, s.config_layer, f"{w}.layer"),
        priority=s.priority)


ADDRESS_SPEC = declare(ResourceType(
    "AddressSpecs.net.talos.dev", "network", AddressSpecSpec,
    proto=ProtoSpec(f"{_PB}:AddressSpecSpec", _address_spec_proto)))


@dataclass(frozen=True)
class RouteSpecSpec:
    """A route the node should have (id as upstream's RouteID:
    `[table/][link/]family/gateway/destination/metric`)."""

    family: str = "inet4"
    destination: str = field(default="", metadata={"yaml": "dst"})
    source: str = field(default="", metadata={"yaml": "src"})
    gateway: str = ""
    out_link_name: str = field(default="", metadata=_omit())
    table: str = "main"
    priority: int = field(default=0, metadata=_omit())
    scope: str = "global"
    type: str = "unicast"
    flags: str = ""
    protocol: str = "static"
    config_layer: str = field(default="default", metadata={"yaml": "layer"})
    mtu: int = field(default=0, metadata=_omit())


def _route_spec_proto(s: RouteSpecSpec) -> Message:
    from talos.api.resource.definitions.network import network_pb2 as pb
    from talos.machinery import nethelpers as nh
    from talos.machinery.resources import protoconv as pc

    w = "RouteSpec"
    return pb.RouteSpecSpec(
        family=pc.number(nh.FAMILIES, s.family, f"{w}.family"),
        destination=pc.opt_prefix(s.destination, f"{w}.dst"),
        source=pc.opt_ip(s.source, f"{w}.src"), gateway=pc.opt_ip(s.gateway, f"{w}.gateway"),
        out_link_name=s.out_link_name,
        table=pc.number(nh.ROUTING_TABLES, s.table, f"{w}.table"), priority=s.priority,
        scope=pc.number(nh.SCOPES, s.scope, f"{w}.scope"),
        type=pc.number(nh.ROUTE_TYPES, s.type, f"{w}.type"),
        flags=pc.flags(nh.ROUTE_FLAGS, s.flags, f"{w}.flags", nh.ROUTE_FLAGS_SHIFT),
        protocol=pc.number(nh.ROUTE_PROTOCOLS, s.protocol, f"{w}.protocol"),
        config_layer=pc.number(nh.CONFIG_LAYERS, s.config_layer, f"{w}.layer"), mtu=s.mtu)


ROUTE_SPEC = declare(ResourceType(
    "RouteSpecs.net.talos.dev", "network", RouteSpecSpec,
    proto=ProtoSpec(f"{_PB}:RouteSpecSpec", _route_spec_proto)))


@dataclass(frozen=True)
class LinkSpecSpec:
    """A link the node should have up, with its MTU (0: as the kernel has it); id the
    link's name. Logical links (bonds, VLANs, bridges) are not created yet."""

    name: str = ""
    logical: bool = False
    up: bool = True
    mtu: int = 0
    kind: str = ""
    type: str = "ether"
    config_layer: str = field(default="default", metadata={"yaml": "layer"})


def _link_spec_proto(s: LinkSpecSpec) -> Message:
    from talos.api.resource.definitions.network import network_pb2 as pb
    from talos.machinery import nethelpers as nh
    from talos.machinery.resources import protoconv as pc

    w = "LinkSpec"
    return pb.LinkSpecSpec(
        name=s.name, logical=s.logical, up=s.up, mtu=s.mtu, kind=s.kind,
        type=pc.number(nh.LINK_TYPES, s.type, f"{w}.type"),
        config_layer=pc.number(nh.CONFIG_LAYERS, s.config_layer, f"{w}.layer"))


LINK_SPEC = declare(ResourceType(
    "LinkSpecs.net.talos.dev", "network", LinkSpecSpec,
    proto=ProtoSpec(f"{_PB}:LinkSpecSpec", _link_spec_proto)))
