"""Resources: immutable metadata plus an immutable spec.

A resource is `Resource(metadata, spec)`; both are frozen. Changing one means making a new
value (`resource.with_spec(...)`); the state assigns versions and timestamps on write.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple

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

def _ns(t: datetime | int) -> int:
    if isinstance(t, int):
        return t
    delta = t - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _datetime(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


_FIELDS = ("namespace", "type", "id", "version", "owner", "phase", "created", "updated",
           "finalizers", "labels", "annotations")
_INDEX = {name: i for i, name in enumerate(_FIELDS)}


class Metadata(tuple[Any, ...]):
    """Immutable resource metadata (a tuple underneath: cheap to copy with changes).

    Fields: namespace, type, id, version (int, 0 before the first write), owner, phase,
    created, updated, finalizers, labels, annotations (read-only mappings).
    """

    __slots__ = ()

    def __new__(cls, namespace: str, type: str, id: str, version: int = 0, owner: str = "",
                phase: Phase = Phase.RUNNING, created: datetime | int = 0,
                updated: datetime | int = 0, finalizers: Iterable[str] = (),
                labels: Mapping[str, str] | None = None,
                annotations: Mapping[str, str] | None = None) -> Metadata:
        for name, value in (("namespace", namespace), ("type", type), ("id", id)):
            if not value:
                raise InvalidArgument(f"resource metadata.{name} is empty")
        if not isinstance(labels, MappingProxyType):
            labels = _frozen_map(labels)
        if not isinstance(annotations, MappingProxyType):
            annotations = _frozen_map(annotations)
        return tuple.__new__(cls, (namespace, type, id, version, owner, Phase(phase),
                                   _ns(created), _ns(updated), tuple(finalizers), labels,
                                   annotations))

    @classmethod
    def unchecked(cls, values: Iterable[Any]) -> Metadata:
        """Build from already-valid field values in field order (the state's hot path)."""
        return tuple.__new__(cls, values)

    def evolve(self, **changes: Any) -> Metadata:
        """A copy with some fields changed (no validation of namespace/type/id changes).

        Nothing changed (an empty map for empty labels included): this very metadata, so
        the state sees an update of the resource as stored (its fast path)."""
        vals = list(self)
        changed = False
        for name, value in changes.items():
            i = _INDEX[name]
            if name in ("labels", "annotations") and not isinstance(value, MappingProxyType):
                if not value and not vals[i]:
                    continue  # empty for empty: keep the current map
                value = _frozen_map(value)
            elif name == "finalizers":
                value = tuple(value)
            elif name in ("created", "updated"):
                value = _ns(value)
            if value is not vals[i] and value != vals[i]:
                vals[i] = value
                changed = True
        return tuple.__new__(Metadata, vals) if changed else self

    @property
    def namespace(self) -> str:
        return self[0]  # type: ignore[no-any-return]

    @property
    def type(self) -> str:
        return self[1]  # type: ignore[no-any-return]

    @property
    def id(self) -> str:
        return self[2]  # type: ignore[no-any-return]

    @property
    def version(self) -> int:
        return self[3]  # type: ignore[no-any-return]

    @property
    def owner(self) -> str:
        return self[4]  # type: ignore[no-any-return]

    @property
    def phase(self) -> Phase:
        return self[5]  # type: ignore[no-any-return]

    @property
    def created(self) -> datetime:
        return _datetime(self[6])

    @property
    def updated(self) -> datetime:
        return _datetime(self[7])

    @property
    def created_ns(self) -> int:
        """Creation time, nanoseconds since the Unix epoch (UTC)."""
        return self[6]  # type: ignore[no-any-return]

    @property
    def updated_ns(self) -> int:
        return self[7]  # type: ignore[no-any-return]

    @property
    def finalizers(self) -> tuple[str, ...]:
        return self[8]  # type: ignore[no-any-return]

    @property
    def labels(self) -> Mapping[str, str]:
        return self[9]  # type: ignore[no-any-return]

    @property
    def annotations(self) -> Mapping[str, str]:
        return self[10]  # type: ignore[no-any-return]

    @property
    def pointer(self) -> Pointer:
        return Pointer(self[0], self[1], self[2])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Metadata):
            return NotImplemented
        return tuple(self[:9]) == tuple(other[:9]) and dict(self[9]) == dict(other[9]) and \
            dict(self[10]) == dict(other[10])

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(tuple(self[:4]))

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={v!r}" for n, v in zip(_FIELDS, self, strict=True))
        return f"Metadata({inner})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Metadata, (*self[:9], dict(self[9]), dict(self[10])))


_tuple_new = tuple.__new__  # a NamedTuple without its Python-level __new__ (hot paths)


class Resource(NamedTuple):
    """A resource: immutable metadata plus an immutable spec (a frozen dataclass)."""

    metadata: Metadata
    spec: Any

    @classmethod
    def new(cls, namespace: str, type: str, id: str, spec: Any, *,
            labels: Mapping[str, str] | None = None,
            annotations: Mapping[str, str] | None = None) -> Resource:
        return cls(Metadata(namespace, type, id, labels=labels, annotations=annotations), spec)

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
        return _tuple_new(Resource, (self[0], spec))

    def with_metadata(self, **changes: Any) -> Resource:
        return Resource(self.metadata.evolve(**changes), self.spec)

    def yaml_spec(self) -> str:
        return spec_to_yaml(self.spec)

    def same_content(self, other: Resource) -> bool:
        """Spec, labels and annotations equal (what a no-op write would not change)."""
        return (self.spec == other.spec and dict(self.metadata.labels) == dict(
            other.metadata.labels) and dict(self.metadata.annotations) == dict(
            other.metadata.annotations))


__all__ = ["Metadata", "Phase", "Pointer", "RawSpec", "Resource"]
