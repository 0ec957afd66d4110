"""proto_spec of every published resource type: our resource -> wire -> upstream message.

Each case decodes `Resource.spec.proto_spec` with the generated upstream message (what a stock
Go talosctl does) and compares every field with values written out here, independently of the
converters each type declares (`ResourceType.proto`). The YAML form must be unchanged by the
proto mapping.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

from talos.api.resource.config import config_pb2
from talos.api.resource.definitions.enums import enums_pb2
from talos.api.v1alpha1 import meta_pb2, resource_pb2
from talos.cosi import protospec
from talos.cosi.resource import Resource
from talos.cosi.spec import RawSpec, spec_to_yaml
from talos.cosi.wire import resource_from_proto, resource_to_proto
from talos.machinery.errors import InvalidArgument
from talos.machinery.resources import (
    block,
    cluster,
    config,
    declared,
    etcd,
    k8s,
    meta,
    network,
    runtime,
    v1alpha1,
)

MACHINE_CONFIG_TEXT = "version: v1alpha1\nmachine:\n  type: controlplane\n"
POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "kube-apiserver", "namespace": "kube-system",
                    "labels": {"tier": "control-plane"}},
       "spec": {"hostNetwork": True, "priority": 2000001000,
                "containers": [{"name": "kube-apiserver", "image": "registry.k8s.io/x:v1",
                                "command": ["kube-apiserver", "--secure-port=6443"]}]}}
MOUNT = k8s.Mount(destination="/var/lib/x", type="bind", source="/var/lib/x",
                  options=("bind", "rshared", "rw"))
MOUNT_PB = {"destination": "/var/lib/x", "type": "bind", "source": "/var/lib/x",
            "options": ["bind", "rshared", "rw"]}


@dataclass(frozen=True)
class Case:
    rt: Any
    spec: Any
    message: str
    #: expected decoded message in protobuf's JSON form (proto field names, defaults omitted)
    expected: dict[str, Any]
    check: Callable[[Message], None] | None = None


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


CASES = {
    "MachineConfig": Case(
        config.MACHINE_CONFIG, config.MachineConfigSpec(MACHINE_CONFIG_TEXT),
        "resource.config.MachineConfigSpec",
        {"yaml_marshalled": _b64(MACHINE_CONFIG_TEXT.encode())}),
    "MachineType": Case(
        config.MACHINE_TYPE, config.MachineTypeSpec("controlplane"),
        "resource.config.MachineTypeSpec", {"machine_type": "CONTROL_PLANE"}),
    "Member": Case(
        cluster.MEMBER,
        cluster.MemberSpec(node_id="n1", addresses=("10.5.0.2", "fd00::2"), hostname="cp-1",
                           machine_type="worker", operating_system="Talos (py)"),
        "talos.resource.definitions.cluster.MemberSpec",
        {"node_id": "n1", "hostname": "cp-1", "machine_type": "TYPE_WORKER",
         "operating_system": "Talos (py)",
         "addresses": [{"ip": _b64(bytes([10, 5, 0, 2]))},
                       {"ip": _b64(bytes.fromhex("fd00" + "00" * 13 + "02"))}]}),
    "Identity": Case(
        cluster.IDENTITY, cluster.IdentitySpec(node_id="abc"),
        "talos.resource.definitions.cluster.IdentitySpec", {"node_id": "abc"}),
    "Affiliate": Case(
        cluster.AFFILIATE,
        cluster.AffiliateSpec(node_id="n1", addresses=("10.5.0.2",), hostname="cp-1",
                              nodename="cp-1", operating_system="Talos (py)",
                              machine_type="controlplane",
                              control_plane=cluster.ControlPlaneSpec(6443)),
        "talos.resource.definitions.cluster.AffiliateSpec",
        {"node_id": "n1", "hostname": "cp-1", "nodename": "cp-1",
         "operating_system": "Talos (py)", "machine_type": "TYPE_CONTROL_PLANE",
         "addresses": [{"ip": _b64(bytes([10, 5, 0, 2]))}],
         "control_plane": {"api_server_port": "6443"}}),
    "DiscoveryConfig": Case(
        cluster.DISCOVERY_CONFIG,
        cluster.DiscoveryConfigSpec(discovery_enabled=True, registry_service_enabled=True,
                                    service_endpoint="10.5.0.1:3000",
                                    service_endpoint_insecure=True,
                                    service_encryption_key=b"k" * 32,
                                    service_cluster_id="cid"),
        "talos.resource.definitions.cluster.ConfigSpec",
        {"discovery_enabled": True, "registry_service_enabled": True,
         "service_endpoint": "10.5.0.1:3000", "service_endpoint_insecure": True,
         "service_encryption_key": _b64(b"k" * 32), "service_cluster_id": "cid"}),
    "EtcdConfig": Case(
        etcd.ETCD_CONFIG,
        etcd.EtcdConfigSpec(advertise_valid_subnets=("10.0.0.0/8",),
                            advertise_exclude_subnets=("10.1.0.0/16",),
                            listen_valid_subnets=("0.0.0.0/0",),
                            listen_exclude_subnets=("192.168.0.0/16",),
                            image="gcr.io/etcd:v3.5",
                            extra_args={"election-timeout": ["5000"],
                                        "listen-metrics-urls": ["http://a", "http://b"]}),
        "talos.resource.definitions.etcd.ConfigSpec",
        {"advertise_valid_subnets": ["10.0.0.0/8"], "advertise_exclude_subnets": ["10.1.0.0/16"],
         "listen_valid_subnets": ["0.0.0.0/0"], "listen_exclude_subnets": ["192.168.0.0/16"],
         "image": "gcr.io/etcd:v3.5",
         "extra_args": {"election-timeout": {"values": ["5000"]},
                        "listen-metrics-urls": {"values": ["http://a", "http://b"]}}}),
    "EtcdMember": Case(
        etcd.ETCD_MEMBER, etcd.EtcdMemberSpec(member_id="8e9e05c52164694d"),
        "talos.resource.definitions.etcd.MemberSpec", {"member_id": "8e9e05c52164694d"}),
    "KubeletConfig": Case(
        k8s.KUBELET_CONFIG,
        k8s.KubeletConfigSpec(image="ghcr.io/kubelet:v1.30", cluster_dns=("10.96.0.10",),
                              cluster_domain="cluster.local",
                              extra_args={"v": "2", "feature-gates": ["A=true", "B=false"]},
                              extra_mounts=(MOUNT,), extra_config={"maxPods": 250},
                              cloud_provider_external=True,
                              default_runtime_seccomp_enabled=True,
                              skip_node_registration=True, static_pod_list_url="http://x",
                              disable_manifests_directory=True),
        "talos.resource.definitions.k8s.KubeletConfigSpec",
        {"image": "ghcr.io/kubelet:v1.30", "cluster_dns": ["10.96.0.10"],
         "cluster_domain": "cluster.local",
         "extra_args": {"v": {"values": ["2"]}, "feature-gates": {"values": ["A=true", "B=false"]}},
         "extra_mounts": [MOUNT_PB], "extra_config": {"maxPods": 250},
         "cloud_provider_external": True, "default_runtime_seccomp_enabled": True,
         "skip_node_registration": True, "static_pod_list_url": "http://x",
         "disable_manifests_directory": True}),
    "KubeletSpec": Case(
        k8s.KUBELET_SPEC,
        k8s.KubeletSpecSpec(image="ghcr.io/kubelet:v1.30", args=("--v=2", "--node-ip=1.2.3.4"),
                            extra_mounts=(MOUNT,), expected_nodename="cp-1",
                            config={"kind": "KubeletConfiguration", "port": 10250,
                                    "clusterDNS": ["10.96.0.10"], "failSwapOn": False}),
        "talos.resource.definitions.k8s.KubeletSpecSpec",
        {"image": "ghcr.io/kubelet:v1.30", "args": ["--v=2", "--node-ip=1.2.3.4"],
         "extra_mounts": [MOUNT_PB], "expected_nodename": "cp-1",
         "config": {"kind": "KubeletConfiguration", "port": 10250,
                    "clusterDNS": ["10.96.0.10"], "failSwapOn": False}}),
    "NodeIPConfig": Case(
        k8s.NODE_IP_CONFIG,
        k8s.NodeIPConfigSpec(valid_subnets=("10.0.0.0/8",), exclude_subnets=("10.0.0.1/32",)),
        "talos.resource.definitions.k8s.NodeIPConfigSpec",
        {"valid_subnets": ["10.0.0.0/8"], "exclude_subnets": ["10.0.0.1/32"]}),
    "StaticPod": Case(
        k8s.STATIC_POD, k8s.StaticPodSpec(POD), "talos.resource.definitions.k8s.StaticPodSpec",
        {"pod": POD}),
    "HostnameStatus": Case(
        network.HOSTNAME_STATUS, network.HostnameStatusSpec("cp-1", "example.org"),
        "talos.resource.definitions.network.HostnameStatusSpec",
        {"hostname": "cp-1", "domainname": "example.org"}),
    "NodeAddress": Case(
        network.NODE_ADDRESS, network.NodeAddressSpec(("10.5.0.2/24", "fd00::2/64"), "v2"),
        "talos.resource.definitions.network.NodeAddressSpec",
        {"sort_algorithm": "ADDRESS_SORT_ALGORITHM_V2",
         "addresses": [{"ip": _b64(bytes([10, 5, 0, 2])), "prefix_length": 24},
                       {"ip": _b64(bytes.fromhex("fd00" + "00" * 13 + "02")),
                        "prefix_length": 64}]}),
    "HostnameSpec": Case(
        network.HOSTNAME_SPEC, network.HostnameSpecSpec("cp-1", "example.org", "configuration"),
        "talos.resource.definitions.network.HostnameSpecSpec",
        {"hostname": "cp-1", "domainname": "example.org",
         "config_layer": "CONFIG_MACHINE_CONFIGURATION"}),
    "LinkStatus": Case(
        network.LINK_STATUS,
        network.LinkStatusSpec(
            index=4, type="ether", link_index=5, flags="UP,BROADCAST,RUNNING,MULTICAST,LOWER_UP",
            hardware_addr="02:00:0a:05:00:02", broadcast_addr="ff:ff:ff:ff:ff:ff", mtu=1500,
            queue_disc="noqueue", operational_state="up", kind="veth", link_state=True,
            speed_megabits=10000, port="Other", duplex="Full",
            vlan=network.VLANSpec(vlan_id=7, protocol="802.1ad")),
        "talos.resource.definitions.network.LinkStatusSpec",
        {"index": 4, "type": "LINK_ETHER", "link_index": 5, "flags": 0x11043,
         "hardware_addr": _b64(bytes([2, 0, 10, 5, 0, 2])), "broadcast_addr": _b64(b"\xff" * 6),
         "mtu": 1500, "queue_disc": "noqueue", "operational_state": "OPER_STATE_UP",
         "kind": "veth", "link_state": True, "speed_megabits": "10000", "port": "OTHER",
         "duplex": "FULL", "vlan": {"vid": 7, "protocol": "VLAN_PROTOCOL8021_AD"}}),
    "AddressStatus": Case(
        network.ADDRESS_STATUS,
        network.AddressStatusSpec(address="10.5.0.2/24", local="10.5.0.2",
                                  broadcast="10.5.0.255", link_index=4, link_name="eth0",
                                  family="inet4", scope="global", flags="permanent"),
        "talos.resource.definitions.network.AddressStatusSpec",
        {"address": {"ip": _b64(bytes([10, 5, 0, 2])), "prefix_length": 24},
         "local": {"ip": _b64(bytes([10, 5, 0, 2]))},
         "broadcast": {"ip": _b64(bytes([10, 5, 0, 255]))}, "link_index": 4,
         "link_name": "eth0", "family": "FAMILY_INET4", "flags": 0x80}),
    "RouteStatus": Case(
        network.ROUTE_STATUS,
        network.RouteStatusSpec(family="inet4", gateway="10.5.0.1", out_link_index=4,
                                out_link_name="eth0", table="main", priority=1024,
                                scope="global", type="unicast", protocol="boot"),
        "talos.resource.definitions.network.RouteStatusSpec",
        {"family": "FAMILY_INET4", "gateway": {"ip": _b64(bytes([10, 5, 0, 1]))},
         "out_link_index": 4, "out_link_name": "eth0", "table": "TABLE_MAIN",
         "priority": 1024, "type": "TYPE_UNICAST", "protocol": "PROTOCOL_BOOT"}),
    "AddressSpec": Case(
        network.ADDRESS_SPEC,
        network.AddressSpecSpec(address="10.5.0.2/24", link_name="eth0",
                                config_layer="configuration"),
        "talos.resource.definitions.network.AddressSpecSpec",
        {"address": {"ip": _b64(bytes([10, 5, 0, 2])), "prefix_length": 24},
         "link_name": "eth0", "family": "FAMILY_INET4", "flags": 0x80,
         "config_layer": "CONFIG_MACHINE_CONFIGURATION"}),
    "RouteSpec": Case(
        network.ROUTE_SPEC,
        network.RouteSpecSpec(gateway="10.5.0.1", out_link_name="eth0", priority=1024,
                              protocol="dhcp", config_layer="operator"),
        "talos.resource.definitions.network.RouteSpecSpec",
        {"family": "FAMILY_INET4", "gateway": {"ip": _b64(bytes([10, 5, 0, 1]))},
         "out_link_name": "eth0", "table": "TABLE_MAIN", "priority": 1024,
         "type": "TYPE_UNICAST", "protocol": "PROTOCOL_DHCP",
         "config_layer": "CONFIG_OPERATOR"}),
    "LinkSpec": Case(
        network.LINK_SPEC,
        network.LinkSpecSpec(name="eth0", mtu=1400, config_layer="cmdline"),
        "talos.resource.definitions.network.LinkSpecSpec",
        {"name": "eth0", "up": True, "mtu": 1400, "type": "LINK_ETHER",
         "config_layer": "CONFIG_CMDLINE"}),
    "ResolverStatus": Case(
        network.RESOLVER_STATUS,
        network.ResolverStatusSpec(dns_servers=("10.5.0.1",), search_domains=("lan",)),
        "talos.resource.definitions.network.ResolverStatusSpec",
        {"dns_servers": [{"ip": _b64(bytes([10, 5, 0, 1]))}], "search_domains": ["lan"]}),
    "Disk": Case(
        block.DISK,
        block.DiskSpec(dev_path="/dev/vda", size=274877906944, pretty_size="275 GB",
                       io_size=4096, sector_size=512, serial="abc", transport="virtio",
                       rotational=True, symlinks=("/dev/disk/by-id/virtio-abc",)),
        "talos.resource.definitions.block.DiskSpec",
        {"dev_path": "/dev/vda", "size": "274877906944", "pretty_size": "275 GB",
         "io_size": "4096", "sector_size": "512", "serial": "abc", "transport": "virtio",
         "rotational": True, "symlinks": ["/dev/disk/by-id/virtio-abc"]}),
    "DiscoveredVolume": Case(
        block.DISCOVERED_VOLUME,
        block.DiscoveredVolumeSpec(dev_path="/dev/vda1", type="partition", parent="vda",
                                   parent_dev_path="/dev/vda", offset=1048576, size=4096000,
                                   pretty_size="4.1 MB", name="ext4", label="STATE",
                                   partition_index=1),
        "talos.resource.definitions.block.DiscoveredVolumeSpec",
        {"dev_path": "/dev/vda1", "type": "partition", "parent": "vda",
         "parent_dev_path": "/dev/vda", "offset": "1048576", "size": "4096000",
         "pretty_size": "4.1 MB", "name": "ext4", "label": "STATE", "partition_index": "1"}),
    "VolumeStatus": Case(
        block.VOLUME_STATUS,
        block.VolumeStatusSpec(phase="ready", type="directory", location="/system/state",
                               mount_location="/system/state",
                               mount_spec=block.MountSpec(target_path="/system/state")),
        "talos.resource.definitions.block.VolumeStatusSpec",
        {"phase": "VOLUME_PHASE_READY", "type": "VOLUME_TYPE_DIRECTORY",
         "location": "/system/state", "mount_location": "/system/state",
         "mount_spec": {"target_path": "/system/state"}}),
    "TimeServerStatus": Case(
        network.TIME_SERVER_STATUS, network.TimeServerStatusSpec(("pool.ntp.org", "1.2.3.4")),
        "talos.resource.definitions.network.TimeServerStatusSpec",
        {"ntp_servers": ["pool.ntp.org", "1.2.3.4"]}),
    "MachineStatus": Case(
        runtime.MACHINE_STATUS,
        runtime.MachineStatusSpec("running", runtime.MachineStatusStatus(
            ready=False, unmet_conditions=(runtime.UnmetCondition("etcd", "not ready"),))),
        "talos.resource.definitions.runtime.MachineStatusSpec",
        {"stage": "MACHINE_STAGE_RUNNING",
         "status": {"unmet_conditions": [{"name": "etcd", "reason": "not ready"}]}}),
    "MetaKey": Case(
        runtime.META_KEY, runtime.MetaKeySpec("hello world"),
        "talos.resource.definitions.runtime.MetaKeySpec", {"value": "hello world"}),
    "Service": Case(
        v1alpha1.SERVICE, v1alpha1.ServiceSpec(running=True, healthy=True),
        "talos.resource.definitions.v1alpha1.ServiceSpec", {"running": True, "healthy": True}),
    "TimeStatus": Case(
        v1alpha1.TIME_STATUS, v1alpha1.TimeStatusSpec(synced=True, epoch=3, sync_disabled=True),
        "talos.resource.definitions.time.StatusSpec",
        {"synced": True, "epoch": "3", "sync_disabled": True}),
    "ResourceDefinition": Case(
        meta.RESOURCE_DEFINITION, meta.ResourceDefinitionSpec.of(v1alpha1.SERVICE),
        "cosi.resource.meta.ResourceDefinitionSpec",
        {"resource_type": "Services.v1alpha1.talos.dev", "display_type": "Service",
         "default_namespace": "v1alpha1", "aliases": ["svc"],
         "all_aliases": list(v1alpha1.SERVICE.all_aliases),
         "print_columns": [{"name": "Running", "json_path": "{.running}"},
                           {"name": "Healthy", "json_path": "{.healthy}"},
                           {"name": "Health Unknown", "json_path": "{.unknown}"}]}),
    "Namespace": Case(
        meta.NAMESPACE, meta.NamespaceSpec("Talos runtime resources."),
        "cosi.resource.meta.NamespaceSpec", {"description": "Talos runtime resources."}),
}


def _wire(rt: Any, spec: Any, id: str = "x") -> resource_pb2.Resource:
    r = Resource.new(rt.default_namespace, rt.type, id, spec)
    # through bytes, as a client receives it
    return resource_pb2.Resource.FromString(resource_to_proto(r).SerializeToString())


def _as_json(msg: Message) -> dict[str, Any]:
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def test_every_declared_type_has_a_proto_spec() -> None:
    # types the project declares (other tests declare throwaway types in the same registry)
    ours = [rt for rt in declared() if rt.spec.__module__.startswith("talos.")]
    assert len(ours) >= len(CASES)
    missing = [rt.type for rt in ours if rt.proto is None]
    assert not missing, f"published types without an upstream proto_spec: {missing}"
    assert {c.rt.type for c in CASES.values()} == {rt.type for rt in ours}


@pytest.mark.parametrize("name", sorted(CASES))
def test_proto_spec_decodes_to_the_spec_values(name: str) -> None:
    case = CASES[name]
    pb = _wire(case.rt, case.spec)
    entry = case.rt.proto
    assert entry is not None
    assert entry.message.DESCRIPTOR.full_name == case.message
    # the converter builds the very message the type declares (what decode parses into)
    assert type(protospec.to_message(case.rt.type, case.spec)) is entry.message
    assert pb.spec.proto_spec, "proto_spec is empty"
    decoded = entry.message.FromString(pb.spec.proto_spec)
    assert _as_json(decoded) == case.expected
    # strict parse too: the bytes hold nothing the upstream message does not declare
    assert len(UnknownFieldSet(decoded)) == 0
    assert protospec.decode(case.rt.type, pb.spec.proto_spec) == decoded


@pytest.mark.parametrize("name", sorted(CASES))
def test_yaml_spec_is_unchanged_and_still_decodes(name: str) -> None:
    case = CASES[name]
    pb = _wire(case.rt, case.spec)
    assert pb.spec.yaml_spec == spec_to_yaml(case.spec)
    assert resource_from_proto(pb).spec == case.spec


@pytest.mark.parametrize(("ours", "upstream"), [
    ("unknown", 0), ("init", 1), ("controlplane", 2), ("worker", 3)])
def test_machine_types(ours: str, upstream: int) -> None:
    pb = _wire(config.MACHINE_TYPE, config.MachineTypeSpec(ours))
    assert config_pb2.MachineTypeSpec.FromString(pb.spec.proto_spec).machine_type == upstream
    member = cluster.MemberSpec(node_id="n", machine_type=ours)
    decoded = protospec.decode(cluster.MEMBER.type, _wire(cluster.MEMBER, member).spec.proto_spec)
    assert decoded.machine_type == upstream  # type: ignore[attr-defined]
    # both upstream enums carry machine.Type's numbers
    assert enums_pb2.MachineType.Name(upstream) == "TYPE_" + config_pb2.MachineType.Name(upstream)


@pytest.mark.parametrize(("ours", "upstream"), [
    ("unknown", "MACHINE_STAGE_UNKNOWN"), ("booting", "MACHINE_STAGE_BOOTING"),
    ("installing", "MACHINE_STAGE_INSTALLING"), ("maintenance", "MACHINE_STAGE_MAINTENANCE"),
    ("running", "MACHINE_STAGE_RUNNING"), ("rebooting", "MACHINE_STAGE_REBOOTING"),
    ("shuttingDown", "MACHINE_STAGE_SHUTTING_DOWN"), ("resetting", "MACHINE_STAGE_RESETTING"),
    ("upgrading", "MACHINE_STAGE_UPGRADING")])
def test_machine_stages(ours: str, upstream: str) -> None:
    pb = _wire(runtime.MACHINE_STATUS, runtime.MachineStatusSpec(stage=ours))
    decoded = protospec.decode(runtime.MACHINE_STATUS.type, pb.spec.proto_spec)
    assert enums_pb2.RuntimeMachineStage.Name(decoded.stage) == upstream  # type: ignore[attr-defined]


def test_empty_documents_leave_the_struct_unset() -> None:
    pb = _wire(k8s.KUBELET_SPEC, k8s.KubeletSpecSpec(image="i"))
    decoded = protospec.decode(k8s.KUBELET_SPEC.type, pb.spec.proto_spec)
    assert not decoded.HasField("config")


def test_raw_spec_and_undeclared_types_have_no_proto_spec() -> None:
    raw = Resource.new("network", network.HOSTNAME_STATUS.type, "hostname",
                       RawSpec("hostname: a\n"))
    assert resource_to_proto(raw).spec.proto_spec == b""
    other = Resource.new("network", "Links.net.talos.dev", "eth0", RawSpec("x: 1\n"))
    assert resource_to_proto(other).spec.proto_spec == b""
    assert protospec.encode("Links.net.talos.dev", RawSpec("x: 1\n")) == b""


@pytest.mark.parametrize("spec", [
    network.NodeAddressSpec(("10.5.0.2/33",)), network.NodeAddressSpec(("not-an-ip/24",)),
    network.NodeAddressSpec(("10.5.0.2/x",))])
def test_bad_prefix_names_the_field(spec: network.NodeAddressSpec) -> None:
    with pytest.raises(InvalidArgument, match=r"NodeAddress\.addresses\[0\]: expected an IP"):
        protospec.encode(network.NODE_ADDRESS.type, spec)


def test_bad_address_and_stage_name_the_field() -> None:
    with pytest.raises(InvalidArgument, match=r"Member\.addresses\[1\]: expected an IP address"):
        protospec.encode(cluster.MEMBER.type, cluster.MemberSpec(addresses=("1.2.3.4", "x")))
    with pytest.raises(InvalidArgument, match=r"MachineStatus\.stage: expected one of"):
        protospec.encode(runtime.MACHINE_STATUS.type, runtime.MachineStatusSpec(stage="dancing"))


def test_decode_refuses_garbage_and_unknown_types() -> None:
    with pytest.raises(InvalidArgument,
                       match=r"not a talos\.resource\.definitions\.etcd\.MemberSpec"):
        protospec.decode(etcd.ETCD_MEMBER.type, b"\x0a\xff")
    with pytest.raises(InvalidArgument, match="has no protobuf spec"):
        protospec.decode("Links.net.talos.dev", b"")


def test_resource_definitions_say_when_a_type_is_sensitive() -> None:
    rd = meta_pb2.ResourceDefinitionSpec.FromString(protospec.encode(
        meta.RESOURCE_DEFINITION.type, meta.ResourceDefinitionSpec.of(config.MACHINE_CONFIG)))
    assert rd.sensitivity == meta_pb2.ResourceDefinitionSpec.SENSITIVE


def test_generated_messages_load_only_when_a_spec_is_encoded() -> None:
    # apid and talosctl declare every type at start; neither they nor the generic COSI runtime
    # load a Talos resource message module until a spec is actually encoded
    code = (
        "import sys\n"
        "import talos.machinery.resources, talos.cosi.wire, talos.cosi.server\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('talos.api.resource')\n"
        "                or m == 'talos.machinery.resources.protoconv')\n"
        "print(','.join(loaded))\n"
        "from talos.cosi import protospec\n"
        "from talos.machinery.resources import cluster\n"
        "protospec.encode(cluster.MEMBER.type, cluster.MemberSpec(node_id='n'))\n"
        "print('talos.api.resource.definitions.cluster.cluster_pb2' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["", "True"], out
