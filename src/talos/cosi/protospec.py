"""`proto_spec` of published resources, from what each resource type declares.

A stock Go talosctl decodes a resource of a type it knows from `Resource.spec.proto_spec`
(cosi-project/runtime's protobuf registry unmarshals it into the typed spec); only types
unknown to it fall back to `yaml_spec`. Each type declares its upstream message and the
converter from our spec dataclass where it is defined (`ResourceType.proto`, in
`talos.machinery.resources.<domain>`); this module only looks them up, so the runtime knows
no Talos type.

The YAML form (`yaml_spec`) is independent of the proto form: field names there never change
it.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import DecodeError, Message

from talos.machinery.errors import InvalidArgument
from talos.machinery.resources.definition import ProtoSpec, lookup


def proto_of(type_name: str) -> ProtoSpec | None:
    """The declared proto form of a type, or None (undeclared, or published as YAML only)."""
    rt = lookup(type_name)
    return None if rt is None else rt.proto


def to_message(type_name: str, spec: Any) -> Message | None:
    """The upstream message for a spec, or None when the type has no proto form here (or the
    spec is not the declared dataclass, e.g. a `RawSpec` of a type this process lacks)."""
    rt = lookup(type_name)
    if rt is None or rt.proto is None or not isinstance(spec, rt.spec):
        return None
    return rt.proto.convert(spec)


def encode(type_name: str, spec: Any) -> bytes:
    """`proto_spec` bytes for a spec; empty when the type has no proto form."""
    msg = to_message(type_name, spec)
    return b"" if msg is None else bytes(msg.SerializeToString())


def decode(type_name: str, data: bytes) -> Message:
    """Parse `proto_spec` bytes of a type into its upstream message (what a Go client does)."""
    proto = proto_of(type_name)
    if proto is None:
        raise InvalidArgument(f"resource type {type_name!r} has no protobuf spec")
    msg = proto.message()
    try:
        msg.ParseFromString(data)
    except DecodeError as e:
        raise InvalidArgument(
            f"{type_name} proto_spec: not a {msg.DESCRIPTOR.full_name}: {e}") from None
    return msg
