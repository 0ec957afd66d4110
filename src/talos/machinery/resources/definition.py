"""Declaring a resource type: its Talos name, namespace, aliases, columns and sensitivity.

This is pure data so that every layer can use it: the COSI runtime stores and serves
resources of a declared type, apid asks `is_sensitive` before showing one to a reader, and
talosctl resolves `get svc` to `Services.v1alpha1.talos.dev` with the same aliases.

Declare a type once, next to its spec dataclass, in `talos.machinery.resources.<namespace>`:

    @dataclass(frozen=True)
    class ServiceSpec:
        running: bool = False
        healthy: bool = False
        unknown: bool = False

    SERVICE = declare(ResourceType(
        "Services.v1alpha1.talos.dev", "v1alpha1", ServiceSpec,
        print_columns=(PrintColumn("Running", "{.running}"), ...),
        proto=ProtoSpec("talos.api.resource.definitions.v1alpha1.v1alpha1_pb2:ServiceSpec",
                        _service_pb)))

`proto` is how a stock client decodes the spec (`Resource.spec.proto_spec`): the upstream
message and a converter from the dataclass, as cosi-project's runtime registers a type with
its protobuf spec next to its definition. The converter imports the generated module inside
itself and the message is named by path, so declaring types (which apid and talosctl do at
import) never imports protobuf.
"""

from __future__ import annotations

import builtins
import importlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from talos.machinery.errors import AlreadyExists, InvalidArgument

if TYPE_CHECKING:
    from google.protobuf.message import Message


@dataclass(frozen=True)
class PrintColumn:
    """An extra `talosctl get` table column: header and a JSONPath into the spec."""

    name: str
    json_path: str


@dataclass(frozen=True)
class ProtoSpec:
    """How one type's spec travels as `proto_spec`: upstream's message and our converter.

    `message_path` is `"<generated module>:<Message>"` (e.g.
    `"talos.api.resource.definitions.cluster.cluster_pb2:MemberSpec"`), imported on first
    use; `convert` turns the spec dataclass into that message and raises InvalidArgument
    naming the field when a value has no wire form.
    """

    message_path: str
    convert: Callable[[Any], Message]

    def __post_init__(self) -> None:
        module, sep, name = self.message_path.partition(":")
        if not (module and sep and name.isidentifier()):
            raise InvalidArgument(
                f"proto message {self.message_path!r}: expected '<module>:<Message>', e.g. "
                "'talos.api.resource.definitions.cluster.cluster_pb2:MemberSpec'")

    @property
    def message(self) -> builtins.type[Message]:
        """The generated message class (imports its module the first time)."""
        module, _, name = self.message_path.partition(":")
        cls: builtins.type[Message] = getattr(importlib.import_module(module), name)
        return cls


@dataclass(frozen=True)
class ResourceType:
    """A resource type as Talos names it.

    `spec` is a frozen dataclass (fields render to YAML in lowerCamelCase unless a field
    carries `metadata={"yaml": "name"}`), or any class with `to_yaml() -> str` and
    `from_yaml(text) -> spec` for specs kept as documents (the machine config).
    """

    type: str
    default_namespace: str
    spec: builtins.type[Any]
    aliases: tuple[str, ...] = ()
    print_columns: tuple[PrintColumn, ...] = ()
    sensitive: bool = False
    #: API clients may create/update/destroy resources of this type through the State API
    api_writable: bool = False
    display_type: str = field(default="")
    #: the upstream protobuf form of the spec (None: published as YAML only)
    proto: ProtoSpec | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]*(\.[a-z0-9-]+)+", self.type):
            raise InvalidArgument(
                f"resource type {self.type!r}: expected '<PluralName>.<group>', "
                "e.g. 'Services.v1alpha1.talos.dev'")
        if not self.default_namespace:
            raise InvalidArgument(f"resource type {self.type}: default_namespace is empty")
        if not self.display_type:
            object.__setattr__(self, "display_type", singular(self.type.split(".", 1)[0]))

    @property
    def all_aliases(self) -> tuple[str, ...]:
        """Every name `talosctl get` accepts for this type (matched case-insensitively)."""
        plural = self.type.split(".", 1)[0]
        caps = "".join(c for c in self.display_type if c.isupper()).lower()
        names = [*self.aliases, self.display_type, plural, self.display_type.lower(),
                 plural.lower()]
        if len(caps) > 1:
            names += [caps, caps + "s"]
        # upstream COSI also accepts the plural with leading parts of its group:
        # `linkstatuses.net`, `linkstatuses.net.talos`
        group = self.type.split(".")[1:]
        names += [".".join([plural.lower(), *group[:i]]) for i in range(1, len(group))]
        out: list[str] = []
        for n in names:
            if n and n not in out:
                out.append(n)
        return tuple(out)

    def matches(self, name: str) -> bool:
        """True when `name` is this type's full name or one of its aliases (any case)."""
        low = name.lower()
        return low == self.type.lower() or any(a.lower() == low for a in self.all_aliases)


def singular(word: str) -> str:
    """English singular of a CamelCase plural type name: Statuses->Status, Policies->Policy."""
    for plural_end, single_end in (("ies", "y"), ("sses", "ss"), ("uses", "us"),
                                   ("xes", "x"), ("ches", "ch"), ("shes", "sh")):
        if word.endswith(plural_end):
            return word[: -len(plural_end)] + single_end
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


_lock = threading.Lock()
_registry: dict[str, ResourceType] = {}


def declare(rt: ResourceType) -> ResourceType:
    """Register a type process-wide; declaring the same name twice differently is an error."""
    with _lock:
        old = _registry.get(rt.type)
        if old is not None and old != rt:
            raise AlreadyExists(f"resource type {rt.type} is already declared differently")
        _registry[rt.type] = rt
    return rt


def lookup(type_name: str) -> ResourceType | None:
    """The declared type with exactly this name, or None."""
    return _registry.get(type_name)


def declared() -> tuple[ResourceType, ...]:
    """Every declared type, sorted by name."""
    with _lock:
        return tuple(sorted(_registry.values(), key=lambda r: r.type))


def resolve(name: str) -> ResourceType:
    """Find a declared type by name or alias, case-insensitively (as `talosctl get` does)."""
    found = [rt for rt in declared() if rt.matches(name)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise InvalidArgument(f"resource type {name!r} is not registered")
    names = ", ".join(rt.type for rt in found)
    raise InvalidArgument(f"resource type {name!r} is ambiguous: {names}")
