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
from typing import Any

from ruamel.yaml import YAML

from talos.machinery.resources.argvalues import ArgValues, arg_values
from talos.machinery.resources.definition import ResourceType, declare

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


KUBELET_CONFIG = declare(ResourceType(
    "KubeletConfigs.kubernetes.talos.dev", K8S_NAMESPACE, KubeletConfigSpec))


@dataclass(frozen=True)
class NodeIPConfigSpec:
    """Which addresses the kubelet may pick as the node IP (`machine.kubelet.nodeIP`)."""

    valid_subnets: tuple[str, ...] = ()
    exclude_subnets: tuple[str, ...] = ()


NODE_IP_CONFIG = declare(ResourceType(
    "NodeIPConfigs.kubernetes.talos.dev", K8S_NAMESPACE, NodeIPConfigSpec))


@dataclass(frozen=True)
class KubeletSpecSpec:
    """What the kubelet service runs: image, full argument list, mounts and its
    KubeletConfiguration document (`talosctl get kubeletspec`)."""

    image: str = ""
    args: tuple[str, ...] = field(default=(), metadata={"omitempty": True})
    extra_mounts: tuple[Mount, ...] = field(default=(), metadata={"omitempty": True})
    expected_nodename: str = ""
    config: dict[str, Any] = field(default_factory=dict)


KUBELET_SPEC = declare(ResourceType(
    "KubeletSpecs.kubernetes.talos.dev", K8S_NAMESPACE, KubeletSpecSpec))


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


STATIC_POD = declare(ResourceType(
    "StaticPods.kubernetes.talos.dev", K8S_NAMESPACE, StaticPodSpec))
