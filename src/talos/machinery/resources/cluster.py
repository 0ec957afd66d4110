"""The `cluster` namespace (the subset declared so far)."""

from __future__ import annotations

from dataclasses import dataclass

from talos.machinery.resources.definition import PrintColumn, ResourceType, declare


@dataclass(frozen=True)
class MemberSpec:
    """A cluster member as discovery sees it (`talosctl get members`)."""

    node_id: str = ""
    addresses: tuple[str, ...] = ()
    hostname: str = ""
    machine_type: str = ""
    operating_system: str = ""


MEMBER = declare(ResourceType(
    "Members.cluster.talos.dev", "cluster", MemberSpec,
    print_columns=(PrintColumn("Hostname", "{.hostname}"),
                   PrintColumn("Machine Type", "{.machineType}"),
                   PrintColumn("OS", "{.operatingSystem}"),
                   PrintColumn("Addresses", "{.addresses}"))))


@dataclass(frozen=True)
class IdentitySpec:
    """This node's random discovery identity (`Identities.cluster.talos.dev`, id `local`),
    kept in STATE so that it survives reboots, as Talos keeps it."""

    node_id: str = ""


IDENTITY = declare(ResourceType(
    "Identities.cluster.talos.dev", "cluster", IdentitySpec,
    print_columns=(PrintColumn("ID", "{.nodeId}"),)))

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


AFFILIATE = declare(ResourceType(
    "Affiliates.cluster.talos.dev", "cluster", AffiliateSpec,
    print_columns=(PrintColumn("Hostname", "{.hostname}"),
                   PrintColumn("Machine Type", "{.machineType}"),
                   PrintColumn("Addresses", "{.addresses}"))))


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


DISCOVERY_CONFIG = declare(ResourceType(
    "DiscoveryConfigs.cluster.talos.dev", "config", DiscoveryConfigSpec, sensitive=True))

#: the id of the discovery config
DISCOVERY_CONFIG_ID = "cluster"
