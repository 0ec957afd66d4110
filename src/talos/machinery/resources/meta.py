"""The COSI `meta` namespace: resource definitions and namespaces (names as upstream)."""

from __future__ import annotations

from dataclasses import dataclass, field

from talos.machinery.resources.definition import PrintColumn, ResourceType, declare

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


RESOURCE_DEFINITION = declare(ResourceType(
    "ResourceDefinitions.meta.cosi.dev", META_NAMESPACE, ResourceDefinitionSpec,
    aliases=("rd",)))

NAMESPACE = declare(ResourceType(
    "Namespaces.meta.cosi.dev", META_NAMESPACE, NamespaceSpec,
    aliases=("ns",),
    print_columns=(PrintColumn("Description", "{.description}"),)))

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
