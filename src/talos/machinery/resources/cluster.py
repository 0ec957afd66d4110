"""The `cluster` namespace (the subset declared so far)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from talos.machinery.resources.definition import PrintColumn, ProtoSpec, ResourceType, declare

if TYPE_CHECKING:
    from google.protobuf.message import Message

#: the generated module of upstream's spec messages (imported by the converters)
_PB = "talos.api.resource.definitions.cluster.cluster_pb2"


@dataclass(frozen=True)
class MemberSpec:
    """A cluster member as discovery sees it (`talosctl get members`)."""

    node_id: str = ""
    addresses: tuple[str, ...] = ()
    hostname: str = ""
    machine_type: str = ""
    operating_system: str = ""


def _member_proto(s: MemberSpec) -> Message:
    from talos.api.resource.definitions.cluster import cluster_pb2 as pb
    from talos.machinery.resources import protoconv as pc

    return pb.MemberSpec(
        node_id=s.node_id,
        addresses=[pc.net_ip(a, f"Member.addresses[{i}]") for i, a in enumerate(s.addresses)],
        hostname=s.hostname,
        machine_type=pc.enum(pc.MACHINE_TYPES, s.machine_type, "Member.machineType"),
        operating_system=s.operating_system)


MEMBER = declare(ResourceType(
    "Members.cluster.talos.dev", "cluster", MemberSpec,
    print_columns=(PrintColumn("Hostname", "{.hostname}"),
                   PrintColumn("Machine Type", "{.machineType}"),
                   PrintColumn("OS", "{.operatingSystem}"),
                   PrintColumn("Addresses", "{.addresses}")),
    proto=ProtoSpec(f"{_PB}:MemberSpec", _member_proto)))


@dataclass(frozen=True)
class IdentitySpec:
    """This node's random discovery identity (`Identities.cluster.talos.dev`, id `local`),
    kept in STATE so that it survives reboots, as Talos keeps it."""

    node_id: str = ""


def _identity_proto(s: IdentitySpec) -> Message:
    from talos.api.resource.definitions.cluster import cluster_pb2 as pb

    return pb.IdentitySpec(node_id=s.node_id)


IDENTITY = declare(ResourceType(
    "Identities.cluster.talos.dev", "cluster", IdentitySpec,
    print_columns=(PrintColumn("ID", "{.nodeId}"),),
    proto=ProtoSpec(f"{_PB}:IdentitySpec", _identity_proto)))

#: the id of this node's own Identity resource
LOCAL_IDENTITY = "local"


@dataclass(frozen=True)
class ControlPlaneSpec:
    """A control plane affiliate's API server port."""

    api_server_port: int = 0


@dataclass(frozen=True)
class AffiliateSpec:
    """A node as discovery knows it: this node (id = its Identity) or one a registry
    reported (`talosctl get affiliates`)."""

    node_id: str = ""
    addresses: tuple[str, ...] = ()
    hostname: str = ""
    nodename: str = ""
    operating_system: str = ""
    machine_type: str = ""
    control_plane: ControlPlaneSpec | None = None


def _affiliate_proto(s: AffiliateSpec) -> Message:
    from talos.api.resource.definitions.cluster import cluster_pb2 as pb
    from talos.machinery.resources import protoconv as pc

    return pb.AffiliateSpec(
        node_id=s.node_id,
        addresses=[pc.net_ip(a, f"Affiliate.addresses[{i}]")
                   for i, a in enumerate(s.addresses)],
        hostname=s.hostname, nodename=s.nodename, operating_system=s.operating_system,
        machine_type=pc.enum(pc.MACHINE_TYPES, s.machine_type, "Affiliate.machineType"),
        control_plane=(None if s.control_plane is None else pb.ControlPlane(
            api_server_port=s.control_plane.api_server_port)))


AFFILIATE = declare(ResourceType(
    "Affiliates.cluster.talos.dev", "cluster", AffiliateSpec,
    print_columns=(PrintColumn("Hostname", "{.hostname}"),
                   PrintColumn("Machine Type", "{.machineType}"),
                   PrintColumn("Addresses", "{.addresses}")),
    proto=ProtoSpec(f"{_PB}:AffiliateSpec", _affiliate_proto)))


@dataclass(frozen=True)
class DiscoveryConfigSpec:
    """Discovery settings from `cluster.discovery` (`Configs.cluster.talos.dev`, id
    `cluster`, namespace `config`). The encryption key is `cluster.secret` decoded."""

    discovery_enabled: bool = False
    registry_kubernetes_enabled: bool = False
    registry_service_enabled: bool = False
    service_endpoint: str = ""
    service_endpoint_insecure: bool = False
    service_encryption_key: bytes = b""
    service_cluster_id: str = ""


def _discovery_config_proto(s: DiscoveryConfigSpec) -> Message:
    from talos.api.resource.definitions.cluster import cluster_pb2 as pb

    return pb.ConfigSpec(
        discovery_enabled=s.discovery_enabled,
        registry_kubernetes_enabled=s.registry_kubernetes_enabled,
        registry_service_enabled=s.registry_service_enabled,
        service_endpoint=s.service_endpoint,
        service_endpoint_insecure=s.service_endpoint_insecure,
        service_encryption_key=s.service_encryption_key,
        service_cluster_id=s.service_cluster_id)


DISCOVERY_CONFIG = declare(ResourceType(
    "DiscoveryConfigs.cluster.talos.dev", "config", DiscoveryConfigSpec, sensitive=True,
    proto=ProtoSpec(f"{_PB}:ConfigSpec", _discovery_config_proto)))

#: the id of the discovery config
DISCOVERY_CONFIG_ID = "cluster"
