"""The `k8s` namespace: what the node's Kubernetes components are configured with.

Controllers derive these from the machine config (`machine.kubelet`, `cluster.apiServer`,
`cluster.controllerManager`, `cluster.scheduler`) whether or not the Kubernetes binaries are
present: the kubelet service reports `Skipped` when they are not, but `talosctl get
kubeletspec` / `get staticpods` still show what it would run.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML

from talos.machinery.resources.argvalues import ArgValues, arg_values
from talos.machinery.resources.definition import ProtoSpec, ResourceType, declare

if TYPE_CHECKING:
    from google.protobuf.message import Message

    from talos.api.resource.definitions.proto import proto_pb2

#: the generated module of upstream's spec messages (imported by the converters)
_PB = "talos.api.resource.definitions.k8s.k8s_pb2"

K8S_NAMESPACE = "k8s"

#: ID of the kubelet's KubeletConfig, KubeletSpec and NodeIPConfig resources.
KUBELET_ID = "kubelet"


@dataclass(frozen=True)
class Mount:
    """An OCI runtime-spec mount (`machine.kubelet.extraMounts[]`)."""

    destination: str = ""
    type: str = field(default="", metadata={"omitempty": True})
    source: str = field(default="", metadata={"omitempty": True})
    options: tuple[str, ...] = field(default=(), metadata={"omitempty": True})


@dataclass(frozen=True)
class KubeletConfigSpec:
    """The kubelet settings of the machine config (`talosctl get kubeletconfig`)."""

    image: str = ""
    cluster_dns: tuple[str, ...] = field(default=(), metadata={"yaml": "clusterDNS"})
    cluster_domain: str = ""
    extra_args: dict[str, ArgValues] = field(default_factory=dict, metadata={"omitempty": True})
    extra_mounts: tuple[Mount, ...] = field(default=(), metadata={"omitempty": True})
    extra_config: dict[str, Any] = field(default_factory=dict, metadata={"omitempty": True})
    cloud_provider_external: bool = False
    default_runtime_seccomp_enabled: bool = False
    skip_node_registration: bool = False
    static_pod_list_url: str = field(default="", metadata={"yaml": "staticPodListURL"})
    disable_manifests_directory: bool = False

    def __post_init__(self) -> None:
        # decoded from YAML, the values arrive as plain mappings
        object.__setattr__(self, "extra_args", arg_values(self.extra_args))


def _mounts_proto(mounts: tuple[Mount, ...]) -> list[proto_pb2.Mount]:
    from talos.api.resource.definitions.proto import proto_pb2

    return [proto_pb2.Mount(destination=m.destination, type=m.type, source=m.source,
                            options=list(m.options)) for m in mounts]


def _kubelet_config_proto(s: KubeletConfigSpec) -> Message:
    from talos.api.resource.definitions.k8s import k8s_pb2 as pb
    from talos.machinery.resources import protoconv as pc

    return pb.KubeletConfigSpec(
        image=s.image, cluster_dns=list(s.cluster_dns), cluster_domain=s.cluster_domain,
        extra_args={k: pb.ArgValues(values=list(v.values)) for k, v in s.extra_args.items()},
        extra_mounts=_mounts_proto(s.extra_mounts),
        extra_config=pc.struct(s.extra_config),
        cloud_provider_external=s.cloud_provider_external,
        default_runtime_seccomp_enabled=s.default_runtime_seccomp_enabled,
        skip_node_registration=s.skip_node_registration,
        static_pod_list_url=s.static_pod_list_url,
        disable_manifests_directory=s.disable_manifests_directory)


KUBELET_CONFIG = declare(ResourceType(
    "KubeletConfigs.kubernetes.talos.dev", K8S_NAMESPACE, KubeletConfigSpec,
    proto=ProtoSpec(f"{_PB}:KubeletConfigSpec", _kubelet_config_proto)))


@dataclass(frozen=True)
class NodeIPConfigSpec:
    """Which addresses the kubelet may pick as the node IP (`machine.kubelet.nodeIP`)."""

    valid_subnets: tuple[str, ...] = ()
    exclude_subnets: tuple[str, ...] = ()


def _node_ip_config_proto(s: NodeIPConfigSpec) -> Message:
    from talos.api.resource.definitions.k8s import k8s_pb2 as pb

    return pb.NodeIPConfigSpec(valid_subnets=list(s.valid_subnets),
                               exclude_subnets=list(s.exclude_subnets))


NODE_IP_CONFIG = declare(ResourceType(
    "NodeIPConfigs.kubernetes.talos.dev", K8S_NAMESPACE, NodeIPConfigSpec,
    proto=ProtoSpec(f"{_PB}:NodeIPConfigSpec", _node_ip_config_proto)))


@dataclass(frozen=True)
class KubeletSpecSpec:
    """What the kubelet service runs: image, full argument list, mounts and its
    KubeletConfiguration document (`talosctl get kubeletspec`)."""

    image: str = ""
    args: tuple[str, ...] = field(default=(), metadata={"omitempty": True})
    extra_mounts: tuple[Mount, ...] = field(default=(), metadata={"omitempty": True})
    expected_nodename: str = ""
    config: dict[str, Any] = field(default_factory=dict)


def _kubelet_spec_proto(s: KubeletSpecSpec) -> Message:
    from talos.api.resource.definitions.k8s import k8s_pb2 as pb
    from talos.machinery.resources import protoconv as pc

    return pb.KubeletSpecSpec(
        image=s.image, args=list(s.args), extra_mounts=_mounts_proto(s.extra_mounts),
        expected_nodename=s.expected_nodename, config=pc.struct(s.config))


KUBELET_SPEC = declare(ResourceType(
    "KubeletSpecs.kubernetes.talos.dev", K8S_NAMESPACE, KubeletSpecSpec,
    proto=ProtoSpec(f"{_PB}:KubeletSpecSpec", _kubelet_spec_proto)))


def _yaml() -> YAML:
    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    y.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    return y


@dataclass(frozen=True)
class StaticPodSpec:
    """A static pod manifest for the kubelet (a `v1.Pod` as plain data); its YAML is the
    pod itself, as Talos renders it (`talosctl get staticpods`)."""

    pod: Mapping[str, Any] = field(default_factory=dict)

    def to_yaml(self) -> str:
        buf = io.StringIO()
        _yaml().dump(_plain(self.pod), buf)
        return buf.getvalue()

    @classmethod
    def from_yaml(cls, text: str) -> StaticPodSpec:
        data = _yaml().load(text) if text.strip() else {}
        return cls(dict(data or {}))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _static_pod_proto(s: StaticPodSpec) -> Message:
    from talos.api.resource.definitions.k8s import k8s_pb2 as pb
    from talos.machinery.resources import protoconv as pc

    return pb.StaticPodSpec(pod=pc.struct(s.pod))


STATIC_POD = declare(ResourceType(
    "StaticPods.kubernetes.talos.dev", K8S_NAMESPACE, StaticPodSpec,
    proto=ProtoSpec(f"{_PB}:StaticPodSpec", _static_pod_proto)))
