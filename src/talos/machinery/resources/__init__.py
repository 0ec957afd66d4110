"""Resource types the node has, by namespace, with Talos's names.

Importing this package declares every type in the catalog; `is_sensitive` is the one
question the authorization layer asks before it shows a resource to a reader.
"""

from __future__ import annotations

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
from talos.machinery.resources.definition import (
    PrintColumn,
    ProtoSpec,
    ResourceType,
    declare,
    declared,
    lookup,
    resolve,
)

__all__ = ["PrintColumn", "ProtoSpec", "ResourceType", "block", "cluster", "config", "declare",
           "declared", "etcd", "is_sensitive", "k8s", "lookup", "meta", "network", "resolve",
           "runtime", "v1alpha1"]


def is_sensitive(type_name: str) -> bool:
    """True when resources of this type hold secrets (only os:admin-like roles may read them).

    Unknown types are treated as not sensitive only if they are not declared anywhere;
    declare every secret-bearing type with `sensitive=True`.
    """
    rt = lookup(type_name)
    return rt is not None and rt.sensitive
