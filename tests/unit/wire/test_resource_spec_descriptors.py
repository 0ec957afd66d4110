"""Golden wire fixtures for the spec messages of every resource type our nodes publish.

Transcribed by hand from siderolabs/talos (commit 5ba1df46 unless noted):
``api/resource/config/config.proto``, ``api/resource/definitions/{cluster,etcd,runtime,time}``
and ``enums`` (d32ccfa5), ``k8s`` (e9058461), ``network`` (284ab117), ``proto`` (6ea50fb3);
re-checked against release v1.13.9 (3ebd10a7), which moved etcd ``ConfigSpec.extra_args`` to
field 7 and kubelet ``KubeletConfigSpec.extra_args`` to field 15 as ``map<string,
ArgValues>`` and added ``KubeSpanAffiliateSpec.exclude_advertised_networks``.
Only the messages we publish (and what they reference) are in our proto/ and in these tables;
``assert_file_matches`` checks our files declare exactly these. Independent of our proto/.
"""

from __future__ import annotations

from filecheck import package_tests
from golden import COMMON, Schema

import talos.api.resource.config.config_pb2 as config_pb2
import talos.api.resource.definitions.cluster.cluster_pb2 as cluster_pb2
import talos.api.resource.definitions.enums.enums_pb2 as enums_pb2
import talos.api.resource.definitions.etcd.etcd_pb2 as etcd_pb2
import talos.api.resource.definitions.k8s.k8s_pb2 as k8s_pb2
import talos.api.resource.definitions.network.network_pb2 as network_pb2
import talos.api.resource.definitions.proto.proto_pb2 as proto_pb2
import talos.api.resource.definitions.runtime.runtime_pb2 as runtime_pb2
import talos.api.resource.definitions.time.time_pb2 as time_pb2

RD = "talos.resource.definitions"

STRUCT = Schema(
    messages={
        "google.protobuf.Struct": [(1, "map<string,msg:google.protobuf.Value>", "fields")],
        "google.protobuf.Value": [
            (1, "oneof=kind enum:google.protobuf.NullValue", "null_value"),
            (2, "oneof=kind double", "number_value"),
            (3, "oneof=kind string", "string_value"),
            (4, "oneof=kind bool", "bool_value"),
            (5, "oneof=kind msg:google.protobuf.Struct", "struct_value"),
            (6, "oneof=kind msg:google.protobuf.ListValue", "list_value"),
        ],
        "google.protobuf.ListValue": [(1, "repeated msg:google.protobuf.Value", "values")],
    },
    enums={"google.protobuf.NullValue": {"NULL_VALUE": 0}},
)

SCHEMA = Schema(
    messages={
        # resource/config/config.proto
        "resource.config.MachineConfigSpec": [(1, "bytes", "yaml_marshalled")],
        "resource.config.MachineTypeSpec": [
            (1, "enum:resource.config.MachineType", "machine_type")],
        # resource/definitions/proto/proto.proto
        f"{RD}.proto.LinuxIDMapping": [
            (1, "uint32", "container_id"), (2, "uint32", "host_id"), (3, "uint32", "size")],
        f"{RD}.proto.Mount": [
            (1, "string", "destination"), (2, "string", "type"), (3, "string", "source"),
            (4, "repeated string", "options"),
            (5, f"repeated msg:{RD}.proto.LinuxIDMapping", "uid_mappings"),
            (6, f"repeated msg:{RD}.proto.LinuxIDMapping", "gid_mappings")],
        # cluster
        f"{RD}.cluster.ControlPlane": [(1, "int64", "api_server_port")],
        f"{RD}.cluster.AffiliateSpec": [
            (1, "string", "node_id"), (2, "repeated msg:common.NetIP", "addresses"),
            (3, "string", "hostname"), (4, "string", "nodename"),
            (5, "string", "operating_system"),
            (6, f"enum:{RD}.enums.MachineType", "machine_type"),
            (7, f"msg:{RD}.cluster.KubeSpanAffiliateSpec", "kube_span"),
            (8, f"msg:{RD}.cluster.ControlPlane", "control_plane")],
        f"{RD}.cluster.ConfigSpec": [
            (1, "bool", "discovery_enabled"), (2, "bool", "registry_kubernetes_enabled"),
            (3, "bool", "registry_service_enabled"), (4, "string", "service_endpoint"),
            (5, "bool", "service_endpoint_insecure"), (6, "bytes", "service_encryption_key"),
            (7, "string", "service_cluster_id")],
        f"{RD}.cluster.IdentitySpec": [(1, "string", "node_id")],
        f"{RD}.cluster.KubeSpanAffiliateSpec": [
            (1, "string", "public_key"), (2, "msg:common.NetIP", "address"),
            (3, "repeated msg:common.NetIPPrefix", "additional_addresses"),
            (4, "repeated msg:common.NetIPPort", "endpoints"),
            (5, "repeated msg:common.NetIPPrefix", "exclude_advertised_networks")],
        f"{RD}.cluster.MemberSpec": [
            (1, "string", "node_id"), (2, "repeated msg:common.NetIP", "addresses"),
            (3, "string", "hostname"), (4, f"enum:{RD}.enums.MachineType", "machine_type"),
            (5, "string", "operating_system"),
            (6, f"msg:{RD}.cluster.ControlPlane", "control_plane")],
        # etcd
        f"{RD}.etcd.ArgValues": [(1, "repeated string", "values")],
        f"{RD}.etcd.ConfigSpec": [
            (1, "repeated string", "advertise_valid_subnets"),
            (2, "repeated string", "advertise_exclude_subnets"), (3, "string", "image"),
            (5, "repeated string", "listen_valid_subnets"),
            (6, "repeated string", "listen_exclude_subnets"),
            (7, f"map<string,msg:{RD}.etcd.ArgValues>", "extra_args")],
        f"{RD}.etcd.MemberSpec": [(1, "string", "member_id")],
        # k8s
        f"{RD}.k8s.ArgValues": [(1, "repeated string", "values")],
        f"{RD}.k8s.KubeletConfigSpec": [
            (1, "string", "image"), (2, "repeated string", "cluster_dns"),
            (3, "string", "cluster_domain"),
            (5, f"repeated msg:{RD}.proto.Mount", "extra_mounts"),
            (6, "msg:google.protobuf.Struct", "extra_config"),
            (7, "bool", "cloud_provider_external"),
            (8, "bool", "default_runtime_seccomp_enabled"),
            (9, "bool", "skip_node_registration"), (10, "string", "static_pod_list_url"),
            (11, "bool", "disable_manifests_directory"),
            (12, "bool", "enable_fs_quota_monitoring"),
            (13, "msg:google.protobuf.Struct", "credential_provider_config"),
            (14, "bool", "allow_scheduling_on_control_plane"),
            (15, f"map<string,msg:{RD}.k8s.ArgValues>", "extra_args")],
        f"{RD}.k8s.KubeletSpecSpec": [
            (1, "string", "image"), (2, "repeated string", "args"),
            (3, f"repeated msg:{RD}.proto.Mount", "extra_mounts"),
            (4, "string", "expected_nodename"), (5, "msg:google.protobuf.Struct", "config"),
            (6, "msg:google.protobuf.Struct", "credential_provider_config")],
        f"{RD}.k8s.NodeIPConfigSpec": [
            (1, "repeated string", "valid_subnets"), (2, "repeated string", "exclude_subnets")],
        f"{RD}.k8s.StaticPodSpec": [(1, "msg:google.protobuf.Struct", "pod")],
        # network
        f"{RD}.network.HostnameStatusSpec": [
            (1, "string", "hostname"), (2, "string", "domainname")],
        f"{RD}.network.NodeAddressSpec": [
            (1, "repeated msg:common.NetIPPrefix", "addresses"),
            (2, f"enum:{RD}.enums.NethelpersAddressSortAlgorithm", "sort_algorithm")],
        f"{RD}.network.TimeServerStatusSpec": [(1, "repeated string", "ntp_servers")],
        # runtime
        f"{RD}.runtime.MachineStatusSpec": [
            (1, f"enum:{RD}.enums.RuntimeMachineStage", "stage"),
            (2, f"msg:{RD}.runtime.MachineStatusStatus", "status")],
        f"{RD}.runtime.MachineStatusStatus": [
            (1, "bool", "ready"),
            (2, f"repeated msg:{RD}.runtime.UnmetCondition", "unmet_conditions")],
        f"{RD}.runtime.UnmetCondition": [(1, "string", "name"), (2, "string", "reason")],
        # time
        f"{RD}.time.StatusSpec": [
            (1, "bool", "synced"), (2, "int64", "epoch"), (3, "bool", "sync_disabled")],
    },
    enums={
        "resource.config.MachineType": {
            "UNKNOWN": 0, "INIT": 1, "CONTROL_PLANE": 2, "WORKER": 3},
        f"{RD}.enums.MachineType": {
            "TYPE_UNKNOWN": 0, "TYPE_INIT": 1, "TYPE_CONTROL_PLANE": 2, "TYPE_WORKER": 3},
        f"{RD}.enums.NethelpersAddressSortAlgorithm": {
            "ADDRESS_SORT_ALGORITHM_V1": 0, "ADDRESS_SORT_ALGORITHM_V2": 1},
        f"{RD}.enums.RuntimeMachineStage": {
            "MACHINE_STAGE_UNKNOWN": 0, "MACHINE_STAGE_BOOTING": 1,
            "MACHINE_STAGE_INSTALLING": 2, "MACHINE_STAGE_MAINTENANCE": 3,
            "MACHINE_STAGE_RUNNING": 4, "MACHINE_STAGE_REBOOTING": 5,
            "MACHINE_STAGE_SHUTTING_DOWN": 6, "MACHINE_STAGE_RESETTING": 7,
            "MACHINE_STAGE_UPGRADING": 8},
    },
).merge(COMMON, STRUCT)

#: (our file, its upstream path): the descriptor keeps upstream's file name
FILES = {
    "config": (config_pb2, "resource/config/config.proto"),
    "enums": (enums_pb2, "resource/definitions/enums/enums.proto"),
    "proto": (proto_pb2, "resource/definitions/proto/proto.proto"),
    "cluster": (cluster_pb2, "resource/definitions/cluster/cluster.proto"),
    "etcd": (etcd_pb2, "resource/definitions/etcd/etcd.proto"),
    "k8s": (k8s_pb2, "resource/definitions/k8s/k8s.proto"),
    "network": (network_pb2, "resource/definitions/network/network.proto"),
    "runtime": (runtime_pb2, "resource/definitions/runtime/runtime.proto"),
    "time": (time_pb2, "resource/definitions/time/time.proto"),
}

for _short, (_module, _path) in FILES.items():
    for _name, _test in package_tests(SCHEMA, _module.DESCRIPTOR).items():
        # no serialized upstream descriptor of these packages is stored; the tables above are
        # the hand transcription
        if _name == "test_table_matches_upstream_descriptor":
            continue
        if _short == "enums" and _name in ("test_message_matches_upstream",
                                           "test_random_values_roundtrip"):
            continue  # upstream's enums package declares no message
        globals()[f"{_name}__{_short}"] = _test


def test_files_keep_the_upstream_paths() -> None:
    assert {m.DESCRIPTOR.name for m, _ in FILES.values()} == {p for _, p in FILES.values()}
    for module, path in FILES.values():
        assert module.DESCRIPTOR.name == path
