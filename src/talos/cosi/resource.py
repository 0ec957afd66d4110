"""Resources: immutable metadata plus an immutable spec.

A resource is `Resource(metadata, spec)`; both are frozen. Changing one means making a new
value (`resource.with_spec(...)`); the state assigns versions and timestamps on write.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from talos.cosi.spec import RawSpec, spec_to_yaml
from talos.machinery.errors import InvalidArgument


class Phase(enum.StrEnum):
    RUNNING = "running"
    TEARING_DOWN = "tearingDown"


def _frozen_map(m: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(sorted((m or {}).items())))


@dataclass(frozen=True)
class Pointer:
    """(namespace, type, id): where a resource lives."""

    namespace: str
    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.type}/{self.id}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Metadata:
    namespace: str
    type: str
    id: str
    version: int = 0
    owner: str = ""
    phase: Phase = Phase.RUNNING
    created: datetime = _EPOCH
    updated: datetime = _EPOCH
    finalizers: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=lambda: _frozen_map(None))
    annotations: Mapping[str, str] = field(default_factory=lambda: _frozen_map(None))

    def __post_init__(self) -> None:
        for name in ("namespace", "type", "id"):
            if not getattr(self, name):
                raise InvalidArgument(f"resource metadata.{name} is empty")
        if not isinstance(self.labels, MappingProxyType):
            object.__setattr__(self, "labels", _frozen_map(self.labels))
        if not isinstance(self.annotations, MappingProxyType):
            object.__setattr__(self, "annotations", _frozen_map(self.annotations))
        object.__setattr__(self, "finalizers", tuple(self.finalizers))

    @property
    def pointer(self) -> Pointer:
        return Pointer(self.namespace, self.type, self.id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Metadata):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[Any, ...]:
        return (self.namespace, self.type, self.id, self.version, self.owner, self.phase,
                self.created, self.updated, self.finalizers, tuple(self.labels.items()),
                tuple(self.annotations.items()))


@dataclass(frozen=True)
class Resource:
    metadata: Metadata
    spec: Any

    @classmethod
    def new(cls, namespace: str, type: str, id: str, spec: Any, *,
            labels: Mapping[str, str] | None = None,
            annotations: Mapping[str, str] | None = None) -> Resource:
        return cls(Metadata(namespace, type, id, labels=_frozen_map(labels),
                            annotations=_frozen_map(annotations)), spec)

    @property
    def pointer(self) -> Pointer:
        return self.metadata.pointer

    @property
    def id(self) -> str:
        return self.metadata.id

    @property
    def version(self) -> int:
        return self.metadata.version

    def with_spec(self, spec: Any) -> Resource:
        return Resource(self.metadata, spec)

    def with_metadata(self, **changes: Any) -> Resource:
        return Resource(replace(self.metadata, **changes), self.spec)

    def yaml_spec(self) -> str:
        return spec_to_yaml(self.spec)

    def same_content(self, other: Resource) -> bool:
        """Spec, labels and annotations equal (what a no-op write would not change)."""
        return (self.spec == other.spec and dict(self.metadata.labels) == dict(
            other.metadata.labels) and dict(self.metadata.annotations) == dict(
            other.metadata.annotations))


__all__ = ["Metadata", "Phase", "Pointer", "RawSpec", "Resource"]
