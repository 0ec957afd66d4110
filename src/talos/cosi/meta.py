"""Fill the `meta` namespace: one ResourceDefinition per declared type, one Namespace each.

Their ID is the lowercased type (resource definitions) or the namespace name, as upstream.
They are owned by `OWNER`, so API clients cannot change them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from talos.cosi.resource import Resource
from talos.cosi.state import State
from talos.machinery.resources.definition import ResourceType, declared
from talos.machinery.resources.meta import (
    META_NAMESPACE,
    NAMESPACE,
    NAMESPACES,
    RESOURCE_DEFINITION,
    NamespaceSpec,
    ResourceDefinitionSpec,
)

OWNER = "meta.DefinitionsController"


async def _put(state: State, r: Resource) -> None:
    cur = state.get_nowait(r.metadata.namespace, r.metadata.type, r.id)
    if cur is None:
        await state.create(r, owner=OWNER)
    elif cur.spec != r.spec:
        await state.update(r.with_metadata(version=cur.version), owner=OWNER)


async def register_definitions(state: State, types: Iterable[ResourceType] | None = None,
                               namespaces: Mapping[str, str] | None = None) -> None:
    """Write (or refresh) the definitions of `types` (default: every declared type) and the
    `namespaces` (default: Talos's namespaces)."""
    for rt in (declared() if types is None else types):
        await _put(state, Resource.new(META_NAMESPACE, RESOURCE_DEFINITION.type,
                                       rt.type.lower(), ResourceDefinitionSpec.of(rt)))
    for name, description in (NAMESPACES if namespaces is None else namespaces).items():
        await _put(state, Resource.new(META_NAMESPACE, NAMESPACE.type, name,
                                       NamespaceSpec(description)))
