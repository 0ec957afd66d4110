"""`proto_spec` of published resources: one table, resource type -> upstream message + converter.

A stock Go talosctl decodes a resource of a type it knows from `Resource.spec.proto_spec`
(cosi-project/runtime's protobuf registry unmarshals it into the typed spec); only types
unknown to it fall back to `yaml_spec`. So every type our nodes publish is listed in `TABLE`
with the message siderolabs/talos uses for it (`proto/resource/...`, same package, message
names and field numbers) and a converter from our spec dataclass.

Follows upstream where the encoding is special:
* `MachineConfigs.config.talos.dev`: `resource.config.MachineConfigSpec{yaml_marshalled}`,
  the config document bytes as submitted;
* `MachineTypes.config.talos.dev`: `resource.config.MachineTypeSpec` (enum machine type);
* addresses are `common.NetIP` / `common.NetIPPrefix` holding Go's `netip.Addr`
  binary form (4 bytes for IPv4, 16 for IPv6, no zone);
* free-form documents (kubelet config, static pod) are `google.protobuf.Struct`.

The YAML form (`yaml_spec`) is independent of this table: field names here never change it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2
from google.protobuf.message import DecodeError, Message

from talos.api.common import common_pb2
from talos.api.resource.config import config_pb2
from talos.api.resource.definitions.block import block_pb2
from talos.api.resource.definitions.cluster import cluster_pb2
from talos.api.resource.definitions.enums import enums_pb2
from talos.api.resource.definitions.etcd import etcd_pb2
from talos.api.resource.definitions.k8s import k8s_pb2
from talos.api.resource.definitions.network import network_pb2
from talos.api.resource.definitions.proto import proto_pb2
from talos.api.resource.definitions.runtime import runtime_pb2
from talos.api.resource.definitions.time import time_pb2
from talos.api.resource.definitions.v1alpha1 import v1alpha1_pb2
from talos.api.v1alpha1 import meta_pb2
from talos.machinery import nethelpers as nh
from talos.machinery.errors import InvalidArgument
from talos.machinery.resources import (
    block,
    cluster,
    config,
    etcd,
    k8s,
    meta,
    network,
    runtime,
    v1alpha1,
)


@dataclass(frozen=True)
class ProtoSpec:
    """How one resource type's spec travels as `proto_spec`."""

    message: type[Message]
    spec: type[Any]
    convert: Callable[[Any], Message]


# ------------------------------------------------------------------------- value helpers


def _net_ip(value: str, where: str) -> common_pb2.NetIP:
    try:
        ip = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        raise InvalidArgument(f"{where}: expected an IP address, got {value!r}") from None
    return common_pb2.NetIP(ip=ip.packed)


def _net_ip_prefix(value: str, where: str) -> common_pb2.NetIPPrefix:
    addr, sep, bits = value.partition("/")
    try:
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
        length = int(bits) if sep else ip.max_prefixlen
        if not 0 <= length <= ip.max_prefixlen:
            raise ValueError(value)
    except ValueError:
        raise InvalidArgument(
            f"{where}: expected an IP prefix like 10.5.0.2/24, got {value!r}") from None
    return common_pb2.NetIPPrefix(ip=ip.packed, prefix_length=length)


def _json(value: Any) -> Any:
    """Plain JSON-like data for `Struct.update` (tuples to lists, other scalars to text)."""
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def _struct(value: Mapping[str, Any] | None) -> struct_pb2.Struct | None:
    """A Struct, or None (field left unset) for an empty document, as Go leaves a nil map."""
    if not value:
        return None
    s = struct_pb2.Struct()
    s.update(_json(value))
    return s


def _enum(table: Mapping[str, int], value: str, where: str) -> Any:
    key = value.replace("_", "").replace("-", "").lower()
    try:
        return table[key]
    except KeyError:
        raise InvalidArgument(
            f"{where}: expected one of {', '.join(sorted(table))}, got {value!r}") from None


def _mounts(mounts: Iterable[k8s.Mount]) -> list[proto_pb2.Mount]:
    return [proto_pb2.Mount(destination=m.destination, type=m.type, source=m.source,
                            options=list(m.options)) for m in mounts]


#: our machine type strings -> `enums.MachineType` (and `resource.config.MachineType`:
#: same numbers, upstream machine.Type)
MACHINE_TYPES: Mapping[str, int] = {
    "unknown": enums_pb2.TYPE_UNKNOWN, "": enums_pb2.TYPE_UNKNOWN,
    "init": enums_pb2.TYPE_INIT, "controlplane": enums_pb2.TYPE_CONTROL_PLANE,
    "worker": enums_pb2.TYPE_WORKER,
}

#: our machine stage strings (normalised: lower case, no `_`/`-`) -> `RuntimeMachineStage`
MACHINE_STAGES: Mapping[str, int] = {
    "unknown": enums_pb2.MACHINE_STAGE_UNKNOWN,
    "booting": enums_pb2.MACHINE_STAGE_BOOTING,
    "installing": enums_pb2.MACHINE_STAGE_INSTALLING,
    "maintenance": enums_pb2.MACHINE_STAGE_MAINTENANCE,
    "running": enums_pb2.MACHINE_STAGE_RUNNING,
    "rebooting": enums_pb2.MACHINE_STAGE_REBOOTING,
    "shuttingdown": enums_pb2.MACHINE_STAGE_SHUTTING_DOWN,
    "resetting": enums_pb2.MACHINE_STAGE_RESETTING,
    "upgrading": enums_pb2.MACHINE_STAGE_UPGRADING,
}


# ------------------------------------------------------------------------- converters


def _machine_config(s: config.MachineConfigSpec) -> Message:
    return config_pb2.MachineConfigSpec(yaml_marshalled=s.text.encode())


def _machine_type(s: config.MachineTypeSpec) -> Message:
    return config_pb2.MachineTypeSpec(
        machine_type=_enum(MACHINE_TYPES, s.machine_type, "MachineType.machineType"))


def _member(s: cluster.MemberSpec) -> Message:
    return cluster_pb2.MemberSpec(
        node_id=s.node_id,
        addresses=[_net_ip(a, f"Member.addresses[{i}]") for i, a in enumerate(s.addresses)],
        hostname=s.hostname,
        machine_type=_enum(MACHINE_TYPES, s.machine_type, "Member.machineType"),
        operating_system=s.operating_system)


def _identity(s: cluster.IdentitySpec) -> Message:
    return cluster_pb2.IdentitySpec(node_id=s.node_id)


def _affiliate(s: cluster.AffiliateSpec) -> Message:
    return cluster_pb2.AffiliateSpec(
        node_id=s.node_id,
        addresses=[_net_ip(a, f"Affiliate.addresses[{i}]") for i, a in enumerate(s.addresses)],
        hostname=s.hostname, nodename=s.nodename, operating_system=s.operating_system,
        machine_type=_enum(MACHINE_TYPES, s.machine_type, "Affiliate.machineType"),
        control_plane=(None if s.control_plane is None else cluster_pb2.ControlPlane(
            api_server_port=s.control_plane.api_server_port)))


def _discovery_config(s: cluster.DiscoveryConfigSpec) -> Message:
    return cluster_pb2.ConfigSpec(
        discovery_enabled=s.discovery_enabled,
        registry_kubernetes_enabled=s.registry_kubernetes_enabled,
        registry_service_enabled=s.registry_service_enabled,
        service_endpoint=s.service_endpoint,
        service_endpoint_insecure=s.service_endpoint_insecure,
        service_encryption_key=s.service_encryption_key,
        service_cluster_id=s.service_cluster_id)


def _etcd_config(s: etcd.EtcdConfigSpec) -> Message:
    return etcd_pb2.ConfigSpec(
        advertise_valid_subnets=list(s.advertise_valid_subnets),
        advertise_exclude_subnets=list(s.advertise_exclude_subnets),
        image=s.image,
        extra_args={k: etcd_pb2.ArgValues(values=list(v.values))
                    for k, v in s.extra_args.items()},
        listen_valid_subnets=list(s.listen_valid_subnets),
        listen_exclude_subnets=list(s.listen_exclude_subnets))


def _etcd_member(s: etcd.EtcdMemberSpec) -> Message:
    return etcd_pb2.MemberSpec(member_id=s.member_id)


def _kubelet_config(s: k8s.KubeletConfigSpec) -> Message:
    return k8s_pb2.KubeletConfigSpec(
        image=s.image, cluster_dns=list(s.cluster_dns), cluster_domain=s.cluster_domain,
        extra_args={k: k8s_pb2.ArgValues(values=list(v.values))
                    for k, v in s.extra_args.items()},
        extra_mounts=_mounts(s.extra_mounts),
        extra_config=_struct(s.extra_config),
        cloud_provider_external=s.cloud_provider_external,
        default_runtime_seccomp_enabled=s.default_runtime_seccomp_enabled,
        skip_node_registration=s.skip_node_registration,
        static_pod_list_url=s.static_pod_list_url,
        disable_manifests_directory=s.disable_manifests_directory)


def _kubelet_spec(s: k8s.KubeletSpecSpec) -> Message:
    return k8s_pb2.KubeletSpecSpec(
        image=s.image, args=list(s.args), extra_mounts=_mounts(s.extra_mounts),
        expected_nodename=s.expected_nodename, config=_struct(s.config))


def _node_ip_config(s: k8s.NodeIPConfigSpec) -> Message:
    return k8s_pb2.NodeIPConfigSpec(valid_subnets=list(s.valid_subnets),
                                    exclude_subnets=list(s.exclude_subnets))


def _static_pod(s: k8s.StaticPodSpec) -> Message:
    return k8s_pb2.StaticPodSpec(pod=_struct(s.pod))


def _hostname_status(s: network.HostnameStatusSpec) -> Message:
    return network_pb2.HostnameStatusSpec(hostname=s.hostname, domainname=s.domainname)


def _node_address(s: network.NodeAddressSpec) -> Message:
    return network_pb2.NodeAddressSpec(
        addresses=[_net_ip_prefix(a, f"NodeAddress.addresses[{i}]")
                   for i, a in enumerate(s.addresses)],
        sort_algorithm=_num(nh.ADDRESS_SORT_ALGORITHMS, s.sort_algorithm,
                                 "NodeAddress.sortAlgorithm"))


def _num(table: Mapping[int, str], text: str, where: str) -> Any:
    """A Talos enum name -> its number (typed Any: the generated enum types are ints)."""
    return nh.number(table, text, where)


def _opt_ip(value: str, where: str) -> common_pb2.NetIP | None:
    """An address field Go leaves as a zero `netip.Addr` when absent (unset on the wire)."""
    return _net_ip(value, where) if value else None


def _opt_prefix(value: str, where: str) -> common_pb2.NetIPPrefix | None:
    return _net_ip_prefix(value, where) if value else None


def _hw(value: str, where: str) -> bytes:
    try:
        return bytes.fromhex(value.replace(":", ""))
    except ValueError:
        raise InvalidArgument(
            f"{where}: expected a hardware address like 02:00:00:00:00:01, got {value!r}"
        ) from None


def _link_status(s: network.LinkStatusSpec) -> Message:
    w = "LinkStatus"
    vlan = None if s.vlan is None else network_pb2.VLANSpec(
        vid=s.vlan.vlan_id,
        protocol=_num({33024: "802.1q", 34984: "802.1ad"}, s.vlan.protocol,
                           f"{w}.vlan.vlanProtocol"))
    bridge = None if s.bridge_master is None else network_pb2.BridgeMasterSpec(
        stp=network_pb2.STPSpec(enabled=s.bridge_master.stp.enabled),
        vlan=network_pb2.BridgeVLANSpec(
            filtering_enabled=s.bridge_master.vlan.filtering_enabled))
    return network_pb2.LinkStatusSpec(
        index=s.index, type=_num(nh.LINK_TYPES, s.type, f"{w}.type"),
        link_index=s.link_index,
        flags=nh.flags_value(nh.LINK_FLAGS, s.flags, f"{w}.flags"),
        hardware_addr=_hw(s.hardware_addr, f"{w}.hardwareAddr"),
        broadcast_addr=_hw(s.broadcast_addr, f"{w}.broadcastAddr"),
        permanent_addr=_hw(s.permanent_addr, f"{w}.permanentAddr"),
        mtu=s.mtu, queue_disc=s.queue_disc, master_index=s.master_index,
        operational_state=_num(nh.OPER_STATES, s.operational_state,
                                    f"{w}.operationalState"),
        kind=s.kind, slave_kind=s.slave_kind, bus_path=s.bus_path, pciid=s.pciid,
        driver=s.driver, driver_version=s.driver_version,
        firmware_version=s.firmware_version, product_id=s.product_id,
        vendor_id=s.vendor_id, product=s.product, vendor=s.vendor, link_state=s.link_state,
        speed_megabits=s.speed_megabits, port=_num(nh.PORTS, s.port, f"{w}.port"),
        duplex=_num(nh.DUPLEXES, s.duplex, f"{w}.duplex"), vlan=vlan,
        bridge_master=bridge, alias=s.alias, alt_names=list(s.alt_names))


def _address_status(s: network.AddressStatusSpec) -> Message:
    w = "AddressStatus"
    return network_pb2.AddressStatusSpec(
        address=_opt_prefix(s.address, f"{w}.address"),
        local=_opt_ip(s.local, f"{w}.local"),
        broadcast=_opt_ip(s.broadcast, f"{w}.broadcast"),
        anycast=_opt_ip(s.anycast, f"{w}.anycast"),
        multicast=_opt_ip(s.multicast, f"{w}.multicast"),
        link_index=s.link_index, link_name=s.link_name,
        family=_num(nh.FAMILIES, s.family, f"{w}.family"),
        scope=_num(nh.SCOPES, s.scope, f"{w}.scope"),
        flags=nh.flags_value(nh.ADDRESS_FLAGS, s.flags, f"{w}.flags"), priority=s.priority)


def _route_status(s: network.RouteStatusSpec) -> Message:
    w = "RouteStatus"
    return network_pb2.RouteStatusSpec(
        family=_num(nh.FAMILIES, s.family, f"{w}.family"),
        destination=_opt_prefix(s.destination, f"{w}.dst"),
        source=_opt_ip(s.source, f"{w}.src"), gateway=_opt_ip(s.gateway, f"{w}.gateway"),
        out_link_index=s.out_link_index, out_link_name=s.out_link_name,
        table=_num(nh.ROUTING_TABLES, s.table, f"{w}.table"), priority=s.priority,
        scope=_num(nh.SCOPES, s.scope, f"{w}.scope"),
        type=_num(nh.ROUTE_TYPES, s.type, f"{w}.type"),
        flags=nh.flags_value(nh.ROUTE_FLAGS, s.flags, f"{w}.flags", nh.ROUTE_FLAGS_SHIFT),
        protocol=_num(nh.ROUTE_PROTOCOLS, s.protocol, f"{w}.protocol"), mtu=s.mtu)


def _resolver_status(s: network.ResolverStatusSpec) -> Message:
    return network_pb2.ResolverStatusSpec(
        dns_servers=[_net_ip(a, f"ResolverStatus.dnsServers[{i}]")
                     for i, a in enumerate(s.dns_servers)],
        search_domains=list(s.search_domains))


def _hostname_spec(s: network.HostnameSpecSpec) -> Message:
    return network_pb2.HostnameSpecSpec(
        hostname=s.hostname, domainname=s.domainname,
        config_layer=_num(nh.CONFIG_LAYERS, s.config_layer, "HostnameSpec.layer"))


def _named(names: tuple[str, ...], value: str, where: str) -> Any:
    return _num(dict(enumerate(names)), value, where)


def _disk(s: block.DiskSpec) -> Message:
    return block_pb2.DiskSpec(
        size=s.size, io_size=s.io_size, sector_size=s.sector_size, readonly=s.readonly,
        model=s.model, serial=s.serial, modalias=s.modalias, wwid=s.wwid,
        bus_path=s.bus_path, sub_system=s.sub_system, transport=s.transport,
        rotational=s.rotational, cdrom=s.cdrom, dev_path=s.dev_path,
        pretty_size=s.pretty_size, secondary_disks=list(s.secondary_disks), uuid=s.uuid,
        symlinks=list(s.symlinks))


def _discovered_volume(s: block.DiscoveredVolumeSpec) -> Message:
    return block_pb2.DiscoveredVolumeSpec(
        size=s.size, sector_size=s.sector_size, io_size=s.io_size, name=s.name,
        uuid=s.uuid, label=s.label, block_size=s.block_size,
        filesystem_block_size=s.filesystem_block_size, probed_size=s.probed_size,
        partition_uuid=s.partition_uuid, partition_type=s.partition_type,
        partition_label=s.partition_label, partition_index=s.partition_index, type=s.type,
        device_path=s.device_path, parent=s.parent, dev_path=s.dev_path,
        parent_dev_path=s.parent_dev_path, pretty_size=s.pretty_size, offset=s.offset)


def _volume_status(s: block.VolumeStatusSpec) -> Message:
    w = "VolumeStatus"
    mount = None if s.mount_spec is None else block_pb2.MountSpec(
        target_path=s.mount_spec.target_path, selinux_label=s.mount_spec.selinux_label,
        project_quota_support=s.mount_spec.project_quota_support,
        parent_id=s.mount_spec.parent_id, file_mode=s.mount_spec.file_mode,
        uid=s.mount_spec.uid, gid=s.mount_spec.gid)
    return block_pb2.VolumeStatusSpec(
        phase=_named(block.VOLUME_PHASES, s.phase, f"{w}.phase"),
        pre_fail_phase=_named(block.VOLUME_PHASES, s.pre_fail_phase, f"{w}.preFailPhase"),
        type=_named(block.VOLUME_TYPES, s.type, f"{w}.type"), parent_id=s.parent_id,
        location=s.location, mount_location=s.mount_location,
        partition_index=s.partition_index, parent_location=s.parent_location, uuid=s.uuid,
        partition_uuid=s.partition_uuid, size=s.size, pretty_size=s.pretty_size,
        filesystem=_named(block.FILESYSTEMS, s.filesystem, f"{w}.filesystem"),
        encryption_provider=_named(block.ENCRYPTION_PROVIDERS, s.encryption_provider,
                                   f"{w}.encryptionProvider"),
        mount_spec=mount, error_message=s.error_message)


def _time_server_status(s: network.TimeServerStatusSpec) -> Message:
    return network_pb2.TimeServerStatusSpec(ntp_servers=list(s.time_servers))


def _machine_status(s: runtime.MachineStatusSpec) -> Message:
    return runtime_pb2.MachineStatusSpec(
        stage=_enum(MACHINE_STAGES, s.stage, "MachineStatus.stage"),
        status=runtime_pb2.MachineStatusStatus(
            ready=s.status.ready,
            unmet_conditions=[runtime_pb2.UnmetCondition(name=c.name, reason=c.reason)
                              for c in s.status.unmet_conditions]))


def _service(s: v1alpha1.ServiceSpec) -> Message:
    return v1alpha1_pb2.ServiceSpec(running=s.running, healthy=s.healthy, unknown=s.unknown)


def _time_status(s: v1alpha1.TimeStatusSpec) -> Message:
    return time_pb2.StatusSpec(synced=s.synced, epoch=s.epoch, sync_disabled=s.sync_disabled)


def _resource_definition(s: meta.ResourceDefinitionSpec) -> Message:
    rd = meta_pb2.ResourceDefinitionSpec
    return rd(resource_type=s.type, display_type=s.display_type,
              default_namespace=s.default_namespace, aliases=list(s.aliases),
              all_aliases=list(s.all_aliases),
              print_columns=[rd.PrintColumn(name=c.name, json_path=c.json_path)
                             for c in s.print_columns],
              sensitivity=rd.SENSITIVE if s.sensitivity else rd.NON_SENSITIVE)


def _namespace(s: meta.NamespaceSpec) -> Message:
    return meta_pb2.NamespaceSpec(description=s.description)


def _entry(rt: Any, message: type[Message], convert: Callable[[Any], Message]
           ) -> tuple[str, ProtoSpec]:
    return rt.type, ProtoSpec(message, rt.spec, convert)


#: every published resource type -> its upstream spec message and our converter
TABLE: Mapping[str, ProtoSpec] = dict([
    _entry(config.MACHINE_CONFIG, config_pb2.MachineConfigSpec, _machine_config),
    _entry(config.MACHINE_TYPE, config_pb2.MachineTypeSpec, _machine_type),
    _entry(cluster.MEMBER, cluster_pb2.MemberSpec, _member),
    _entry(cluster.IDENTITY, cluster_pb2.IdentitySpec, _identity),
    _entry(cluster.AFFILIATE, cluster_pb2.AffiliateSpec, _affiliate),
    _entry(cluster.DISCOVERY_CONFIG, cluster_pb2.ConfigSpec, _discovery_config),
    _entry(etcd.ETCD_CONFIG, etcd_pb2.ConfigSpec, _etcd_config),
    _entry(etcd.ETCD_MEMBER, etcd_pb2.MemberSpec, _etcd_member),
    _entry(k8s.KUBELET_CONFIG, k8s_pb2.KubeletConfigSpec, _kubelet_config),
    _entry(k8s.KUBELET_SPEC, k8s_pb2.KubeletSpecSpec, _kubelet_spec),
    _entry(k8s.NODE_IP_CONFIG, k8s_pb2.NodeIPConfigSpec, _node_ip_config),
    _entry(k8s.STATIC_POD, k8s_pb2.StaticPodSpec, _static_pod),
    _entry(network.HOSTNAME_STATUS, network_pb2.HostnameStatusSpec, _hostname_status),
    _entry(network.NODE_ADDRESS, network_pb2.NodeAddressSpec, _node_address),
    _entry(network.TIME_SERVER_STATUS, network_pb2.TimeServerStatusSpec, _time_server_status),
    _entry(network.HOSTNAME_SPEC, network_pb2.HostnameSpecSpec, _hostname_spec),
    _entry(network.LINK_STATUS, network_pb2.LinkStatusSpec, _link_status),
    _entry(network.ADDRESS_STATUS, network_pb2.AddressStatusSpec, _address_status),
    _entry(network.ROUTE_STATUS, network_pb2.RouteStatusSpec, _route_status),
    _entry(network.RESOLVER_STATUS, network_pb2.ResolverStatusSpec, _resolver_status),
    _entry(block.DISK, block_pb2.DiskSpec, _disk),
    _entry(block.DISCOVERED_VOLUME, block_pb2.DiscoveredVolumeSpec, _discovered_volume),
    _entry(block.VOLUME_STATUS, block_pb2.VolumeStatusSpec, _volume_status),
    _entry(runtime.MACHINE_STATUS, runtime_pb2.MachineStatusSpec, _machine_status),
    _entry(v1alpha1.SERVICE, v1alpha1_pb2.ServiceSpec, _service),
    _entry(v1alpha1.TIME_STATUS, time_pb2.StatusSpec, _time_status),
    _entry(meta.RESOURCE_DEFINITION, meta_pb2.ResourceDefinitionSpec, _resource_definition),
    _entry(meta.NAMESPACE, meta_pb2.NamespaceSpec, _namespace),
])


def to_message(type_name: str, spec: Any) -> Message | None:
    """The upstream message for a spec, or None when the type has no proto form here (or the
    spec is not the declared dataclass, e.g. a `RawSpec` of a type this process lacks)."""
    entry = TABLE.get(type_name)
    if entry is None or not isinstance(spec, entry.spec):
        return None
    return entry.convert(spec)


def encode(type_name: str, spec: Any) -> bytes:
    """`proto_spec` bytes for a spec; empty when the type has no proto form."""
    msg = to_message(type_name, spec)
    return b"" if msg is None else bytes(msg.SerializeToString())


def decode(type_name: str, data: bytes) -> Message:
    """Parse `proto_spec` bytes of a type into its upstream message (what a Go client does)."""
    entry = TABLE.get(type_name)
    if entry is None:
        raise InvalidArgument(f"resource type {type_name!r} has no protobuf spec")
    msg = entry.message()
    try:
        msg.ParseFromString(data)
    except DecodeError as e:
        raise InvalidArgument(
            f"{type_name} proto_spec: not a {msg.DESCRIPTOR.full_name}: {e}") from None
    return msg
