"""The COSI `meta` namespace: resource definitions and namespaces (names as upstream)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from talos.machinery.resources.definition import PrintColumn, ProtoSpec, ResourceType, declare

if TYPE_CHECKING:
    from google.protobuf.message import Message

#: the generated module of upstream's spec messages (imported by the converters)
_PB = "talos.api.v1alpha1.meta_pb2"

META_NAMESPACE = "meta"


@dataclass(frozen=True)
class PrintColumnSpec:
    name: str = ""
    json_path: str = ""


@dataclass(frozen=True)
class ResourceDefinitionSpec:
    """Describes one resource type (what `talosctl get rd` shows)."""

    type: str = ""
    display_type: str = ""
    default_namespace: str = ""
    aliases: tuple[str, ...] = ()
    all_aliases: tuple[str, ...] = ()
    print_columns: tuple[PrintColumnSpec, ...] = ()
    sensitivity: str = field(default="", metadata={"omitempty": True})

    @classmethod
    def of(cls, rt: ResourceType) -> ResourceDefinitionSpec:
        return cls(type=rt.type, display_type=rt.display_type,
                   default_namespace=rt.default_namespace, aliases=rt.aliases,
                   all_aliases=rt.all_aliases,
                   print_columns=tuple(PrintColumnSpec(c.name, c.json_path)
                                       for c in rt.print_columns),
                   sensitivity="sensitive" if rt.sensitive else "")


@dataclass(frozen=True)
class NamespaceSpec:
    description: str = ""


def _resource_definition_proto(s: ResourceDefinitionSpec) -> Message:
    from talos.api.v1alpha1 import meta_pb2 as pb

    rd = pb.ResourceDefinitionSpec
    return rd(resource_type=s.type, display_type=s.display_type,
              default_namespace=s.default_namespace, aliases=list(s.aliases),
              all_aliases=list(s.all_aliases),
              print_columns=[rd.PrintColumn(name=c.name, json_path=c.json_path)
                             for c in s.print_columns],
              sensitivity=rd.SENSITIVE if s.sensitivity else rd.NON_SENSITIVE)


RESOURCE_DEFINITION = declare(ResourceType(
    "ResourceDefinitions.meta.cosi.dev", META_NAMESPACE, ResourceDefinitionSpec,
    aliases=("rd",),
    proto=ProtoSpec(f"{_PB}:ResourceDefinitionSpec", _resource_definition_proto)))

def _namespace_proto(s: NamespaceSpec) -> Message:
    from talos.api.v1alpha1 import meta_pb2 as pb

    return pb.NamespaceSpec(description=s.description)


NAMESPACE = declare(ResourceType(
    "Namespaces.meta.cosi.dev", META_NAMESPACE, NamespaceSpec,
    aliases=("ns",),
    print_columns=(PrintColumn("Description", "{.description}"),),
    proto=ProtoSpec(f"{_PB}:NamespaceSpec", _namespace_proto)))

#: Talos's namespaces and what they hold.
NAMESPACES: dict[str, str] = {
    "config": "Talos node configuration.",
    "cluster": "Cluster configuration and discovery resources.",
    "etcd": "etcd resources.",
    "hardware": "Hardware resources.",
    "k8s": "Kubernetes all node types resources.",
    "meta": "Metadata namespace which contains resource and namespace definitions.",
    "network": "Networking resources.",
    "perf": "Stats resources.",
    "runtime": "Talos runtime resources.",
    "secrets": "Resources with secret material.",
    "v1alpha1": "Talos v1alpha1 subsystems glue resources.",
}
