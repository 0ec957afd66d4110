"""Golden wire fixtures: a tiny independent protobuf encoder and schema checks.

Wire compatibility with upstream Talos is protected by tables that are transcribed by hand
from the upstream ``.proto`` files (siderolabs/talos ``api/...``, cosi-project/specification),
*never* derived from our own ``proto/`` files or generated descriptors. Each test builds
golden bytes from a table with the hand-written encoder below and checks that our generated
classes (a) decode those bytes into the expected values, (b) encode the same values to the
same bytes, and (c) declare exactly the fields (and enums, and RPC methods) of the table, so
drift in either direction fails.

Table format
============

A ``Schema`` holds three mappings, keyed by *fully qualified* protobuf names (no leading dot):

``messages: {"machine.VersionInfo": [(1, "string", "tag"), (2, "string", "sha"), ...]}``
    One ``(number, type, name)`` tuple per field. ``type`` is a space-separated spec:

    * a scalar: ``double float int32 int64 uint32 uint64 sint32 sint64 fixed32 fixed64
      sfixed32 sfixed64 bool string bytes``
    * ``msg:<full name>`` for a message (``msg:common.Metadata``,
      ``msg:google.protobuf.Timestamp``); nested types use dots
      (``msg:machine.MachineStatusEvent.MachineStatus``)
    * ``enum:<full name>`` for an enum (``enum:machine.ApplyConfigurationRequest.Mode``)
    * ``map<K,V>`` where K is a scalar and V any of the above (``map<string,string>``,
      ``map<string,msg:cosi.resource.Foo>``)
    * optionally prefixed by one qualifier: ``repeated ...``, ``optional ...`` (proto3
      explicit presence) or ``oneof=<name> ...`` (member of the named oneof).

    Proto3 numeric repeated scalars are packed (as protoc does by default).

``enums: {"machine.ApplyConfigurationRequest.Mode": {"REBOOT": 0, "AUTO": 1, ...}}``

``services: {"machine.MachineService": {"Version": ("google.protobuf.Empty",
"machine.VersionResponse", False, True), ...}}`` — ``(request, response,
client_streaming, server_streaming)``.

``WELL_KNOWN`` (google.protobuf Any/Duration/Timestamp/Empty, google.rpc.Status) and
``COMMON`` (package ``common``) are provided here; combine schemas with ``Schema.merge``.

Entry points
============

* ``encode_fields(schema, full_name, values) -> bytes``: golden encoding of ``values``
  (a dict ``field name -> value``; nested messages as dicts, repeated as lists, maps as dicts,
  enums as ints).
* ``sample_values(schema, full_name, variant=0)``: deterministic non-default values for every
  field (one member per oneof, chosen by ``variant``).
* ``assert_message_matches(cls, schema)``: checks (a), (b), (c) for one generated class.
* ``assert_enum_matches(enum_descriptor, schema)``, ``assert_service_matches(
  service_descriptor, schema)``, ``reachable_messages(schema, service)``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, ServiceDescriptor
from google.protobuf.message import Message

Field = tuple[int, str, str]
Method = tuple[str, str, bool, bool]

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5

_VARINT_TYPES = {"int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool"}
_FIXED64_TYPES = {"fixed64", "sfixed64", "double"}
_FIXED32_TYPES = {"fixed32", "sfixed32", "float"}
SCALARS = _VARINT_TYPES | _FIXED64_TYPES | _FIXED32_TYPES | {"string", "bytes"}

# descriptor_pb2.FieldDescriptorProto.Type -> our scalar names
_PROTO_TYPE_NAMES = {
    descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE: "double",
    descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT: "float",
    descriptor_pb2.FieldDescriptorProto.TYPE_INT64: "int64",
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT64: "uint64",
    descriptor_pb2.FieldDescriptorProto.TYPE_INT32: "int32",
    descriptor_pb2.FieldDescriptorProto.TYPE_FIXED64: "fixed64",
    descriptor_pb2.FieldDescriptorProto.TYPE_FIXED32: "fixed32",
    descriptor_pb2.FieldDescriptorProto.TYPE_BOOL: "bool",
    descriptor_pb2.FieldDescriptorProto.TYPE_STRING: "string",
    descriptor_pb2.FieldDescriptorProto.TYPE_BYTES: "bytes",
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT32: "uint32",
    descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED32: "sfixed32",
    descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED64: "sfixed64",
    descriptor_pb2.FieldDescriptorProto.TYPE_SINT32: "sint32",
    descriptor_pb2.FieldDescriptorProto.TYPE_SINT64: "sint64",
}


# --------------------------------------------------------------------------- type specs


@dataclass(frozen=True)
class FieldType:
    """A parsed field type spec."""

    kind: str  # "scalar", "msg", "enum", "map"
    name: str  # scalar name, or full message/enum name
    qualifier: str = ""  # "", "repeated", "optional"
    oneof: str = ""
    key: str = ""  # map key scalar
    value: FieldType | None = None  # map value type

    @property
    def repeated(self) -> bool:
        return self.qualifier == "repeated"

    def describe(self) -> str:
        if self.kind == "map":
            assert self.value is not None
            return f"map<{self.key},{self.value.describe()}>"
        base = self.name if self.kind == "scalar" else f"{self.kind}:{self.name}"
        if self.oneof:
            return f"oneof={self.oneof} {base}"
        return f"{self.qualifier} {base}".strip()


def parse_type(spec: str) -> FieldType:
    """Parse a table type spec (see module docstring)."""
    spec = spec.strip()
    qualifier, oneof = "", ""
    head, _, rest = spec.partition(" ")
    if head in ("repeated", "optional"):
        qualifier, spec = head, rest.strip()
    elif head.startswith("oneof="):
        oneof, spec = head[len("oneof="):], rest.strip()
    if spec.startswith("map<") and spec.endswith(">"):
        if qualifier or oneof:
            raise ValueError(f"map fields take no qualifier: {spec!r}")
        key, _, value = spec[4:-1].partition(",")
        key = key.strip()
        if key not in SCALARS or key in ("double", "float", "bytes"):
            raise ValueError(f"bad map key type {key!r} in {spec!r}")
        vt = parse_type(value)
        if vt.qualifier or vt.oneof or vt.kind == "map":
            raise ValueError(f"bad map value type in {spec!r}")
        return FieldType("map", "", key=key, value=vt)
    if spec in SCALARS:
        return FieldType("scalar", spec, qualifier, oneof)
    for kind in ("msg", "enum"):
        if spec.startswith(kind + ":"):
            return FieldType(kind, spec[len(kind) + 1:], qualifier, oneof)
    raise ValueError(f"unknown field type spec {spec!r}")


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Schema:
    """Hand-transcribed messages, enums and services (see module docstring)."""

    messages: Mapping[str, Sequence[Field]] = field(default_factory=dict)
    enums: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    services: Mapping[str, Mapping[str, Method]] = field(default_factory=dict)

    def merge(self, *others: Schema) -> Schema:
        messages, enums, services = dict(self.messages), dict(self.enums), dict(self.services)
        for other in others:
            for name, value in other.messages.items():
                if name in messages and list(messages[name]) != list(value):
                    raise ValueError(f"conflicting tables for message {name}")
                messages[name] = value
            for name, evalue in other.enums.items():
                if name in enums and dict(enums[name]) != dict(evalue):
                    raise ValueError(f"conflicting tables for enum {name}")
                enums[name] = evalue
            services.update(other.services)
        return Schema(messages, enums, services)

    def fields(self, full_name: str) -> list[tuple[int, FieldType, str]]:
        try:
            table = self.messages[full_name]
        except KeyError:
            raise KeyError(f"no golden table for message {full_name}") from None
        out = [(num, parse_type(spec), name) for num, spec, name in table]
        numbers = [num for num, _, _ in out]
        names = [name for _, _, name in out]
        if len(set(numbers)) != len(numbers) or len(set(names)) != len(names):
            raise ValueError(f"golden table {full_name} repeats a field number or name")
        return sorted(out, key=lambda f: f[0])

    def check_closed(self) -> list[str]:
        """Names referenced by some table but not defined in this schema."""
        missing: list[str] = []
        for name in self.messages:
            for _, ft, fname in self.fields(name):
                t = ft.value if ft.kind == "map" else ft
                assert t is not None
                if t.kind == "msg" and t.name not in self.messages:
                    missing.append(f"{name}.{fname} -> message {t.name}")
                if t.kind == "enum" and t.name not in self.enums:
                    missing.append(f"{name}.{fname} -> enum {t.name}")
        return missing


# --------------------------------------------------------------------------- encoder


def varint(value: int) -> bytes:
    """Base-128 varint; negative values are sign-extended to 64 bits (int32/int64/enum)."""
    if value < 0:
        value += 1 << 64
    if not 0 <= value < (1 << 64):
        raise ValueError(f"varint out of range: {value}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(value: int, bits: int) -> int:
    return (value << 1) ^ (value >> (bits - 1))


def tag(number: int, wire_type: int) -> bytes:
    return varint((number << 3) | wire_type)


def wire_type_of(ft: FieldType) -> int:
    if ft.kind == "scalar":
        if ft.name in _VARINT_TYPES:
            return VARINT
        if ft.name in _FIXED64_TYPES:
            return FIXED64
        if ft.name in _FIXED32_TYPES:
            return FIXED32
        return LEN
    if ft.kind == "enum":
        return VARINT
    return LEN


def _scalar_payload(type_name: str, value: Any) -> bytes:
    if type_name in ("int32", "int64", "uint32", "uint64"):
        return varint(int(value))
    if type_name == "bool":
        return varint(1 if value else 0)
    if type_name == "sint32":
        return varint(zigzag(int(value), 32) & 0xFFFFFFFF)
    if type_name == "sint64":
        return varint(zigzag(int(value), 64) & 0xFFFFFFFFFFFFFFFF)
    formats = {"fixed64": "<Q", "sfixed64": "<q", "double": "<d", "fixed32": "<I",
               "sfixed32": "<i", "float": "<f"}
    if type_name in formats:
        return struct.pack(formats[type_name], value)
    if type_name == "string":
        raw = value.encode()
        return varint(len(raw)) + raw
    if type_name == "bytes":
        return varint(len(value)) + bytes(value)
    raise ValueError(f"not a scalar type: {type_name}")


def _encode_single(schema: Schema, number: int, ft: FieldType, value: Any) -> bytes:
    if ft.kind == "scalar":
        return tag(number, wire_type_of(ft)) + _scalar_payload(ft.name, value)
    if ft.kind == "enum":
        return tag(number, VARINT) + varint(int(value))
    body = encode_fields(schema, ft.name, value)
    return tag(number, LEN) + varint(len(body)) + body


def _packable(ft: FieldType) -> bool:
    return ft.kind == "enum" or (ft.kind == "scalar" and ft.name not in ("string", "bytes"))


def _map_entry_type(ft: FieldType) -> tuple[FieldType, FieldType]:
    assert ft.value is not None
    return FieldType("scalar", ft.key), ft.value


def _encode_map_entry(schema: Schema, ft: FieldType, key: Any, value: Any) -> bytes:
    kt, vt = _map_entry_type(ft)
    return _encode_single(schema, 1, kt, key) + _encode_single(schema, 2, vt, value)


def encode_fields(schema: Schema, full_name: str, values: Mapping[str, Any],
                  *, packed: bool = True) -> bytes:
    """Encode ``values`` as message ``full_name`` in field-number order (canonical form).

    Fields absent from ``values`` are not emitted; present fields are always emitted (give
    non-default values to compare with proto3 encoders). Map entries are sorted by key, as
    ``SerializeToString(deterministic=True)`` does. ``packed=False`` writes repeated numeric
    scalars unpacked (a parser must accept both forms).
    """
    known = {name for _, _, name in schema.fields(full_name)}
    unknown = set(values) - known
    if unknown:
        raise KeyError(f"{full_name} has no field(s) {sorted(unknown)} in its golden table")
    out = bytearray()
    for number, ft, name in schema.fields(full_name):
        if name not in values:
            continue
        value = values[name]
        if ft.kind == "map":
            for key in sorted(value):
                entry = _encode_map_entry(schema, ft, key, value[key])
                out += tag(number, LEN) + varint(len(entry)) + entry
        elif ft.repeated and _packable(ft) and packed:
            if not value:
                continue
            body = b"".join(
                _scalar_payload(ft.name, v) if ft.kind == "scalar" else varint(int(v))
                for v in value)
            out += tag(number, LEN) + varint(len(body)) + body
        elif ft.repeated:
            single = FieldType(ft.kind, ft.name)
            for item in value:
                out += _encode_single(schema, number, single, item)
        else:
            out += _encode_single(schema, number, ft, value)
    return bytes(out)


# --------------------------------------------------------------------------- decoder


def decode_raw(data: bytes) -> list[tuple[int, int, Any]]:
    """Split bytes into ``(field number, wire type, raw value)`` for readable diffs."""
    out: list[tuple[int, int, Any]] = []
    pos = 0

    def read_varint() -> int:
        nonlocal pos
        shift = result = 0
        while True:
            if pos >= len(data):
                raise ValueError("truncated varint")
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    while pos < len(data):
        key = read_varint()
        number, wt = key >> 3, key & 7
        if wt == VARINT:
            out.append((number, wt, read_varint()))
        elif wt == FIXED64:
            out.append((number, wt, data[pos:pos + 8].hex()))
            pos += 8
        elif wt == FIXED32:
            out.append((number, wt, data[pos:pos + 4].hex()))
            pos += 4
        elif wt == LEN:
            n = read_varint()
            out.append((number, wt, data[pos:pos + n]))
            pos += n
        else:
            raise ValueError(f"unsupported wire type {wt} at offset {pos}")
    return out


# --------------------------------------------------------------------------- sample values


def _scalar_sample(type_name: str, number: int, name: str, item: int) -> Any:
    n = number + 7 * item
    if type_name in ("int32", "sint32", "sfixed32"):
        return -(n * 1000 + 17)  # negative: exercises sign extension / zigzag
    if type_name in ("int64", "sint64", "sfixed64"):
        return -(n * 10**12 + 3)
    if type_name in ("uint32", "fixed32"):
        return 0xF0000000 + n
    if type_name in ("uint64", "fixed64"):
        return 0xF000000000000000 + n
    if type_name == "bool":
        return True
    if type_name == "double":
        return n + 0.5
    if type_name == "float":
        return n + 0.25
    if type_name == "string":
        return f"{name}-{n}-ü"
    if type_name == "bytes":
        return bytes([0, 255, n & 0xFF]) + name.encode()
    raise ValueError(type_name)


def _enum_sample(schema: Schema, enum_name: str, item: int) -> int:
    try:
        values = sorted(set(schema.enums[enum_name].values()))
    except KeyError:
        raise KeyError(f"no golden table for enum {enum_name}") from None
    nonzero = [v for v in values if v != 0] or values
    return nonzero[(len(nonzero) - 1 - item) % len(nonzero)]


def _single_sample(schema: Schema, ft: FieldType, number: int, name: str, item: int,
                   depth: int, variant: int, salt: int) -> Any:
    if ft.kind == "scalar":
        return _scalar_sample(ft.name, number + 50 * salt, name, item)
    if ft.kind == "enum":
        return _enum_sample(schema, ft.name, item)
    # Nested messages differ per item (salt), so reordering repeated items is detected.
    return sample_values(schema, ft.name, variant=variant + item, depth=depth + 1,
                         salt=salt + item + 1)


MAX_DEPTH = 4


def sample_values(schema: Schema, full_name: str, variant: int = 0,
                  depth: int = 0, salt: int = 0) -> dict[str, Any]:
    """Deterministic non-default values for every field of ``full_name``.

    Repeated fields and maps get two items; for each oneof, member number ``variant`` (mod
    the member count) is set. Nesting stops at ``MAX_DEPTH`` with empty messages.
    """
    if depth >= MAX_DEPTH:
        return {}
    fields = schema.fields(full_name)
    oneofs: dict[str, list[str]] = {}
    for _, ft, name in fields:
        if ft.oneof:
            oneofs.setdefault(ft.oneof, []).append(name)
    chosen = {members[variant % len(members)] for members in oneofs.values()}
    values: dict[str, Any] = {}
    for number, ft, name in fields:
        if ft.oneof and name not in chosen:
            continue
        if ft.kind == "map":
            kt, vt = _map_entry_type(ft)
            values[name] = {
                _map_key_sample(kt.name, number, i):
                    _single_sample(schema, vt, number, name, i, depth, variant, salt)
                for i in range(2)}
        elif ft.repeated:
            single = FieldType(ft.kind, ft.name)
            values[name] = [
                _single_sample(schema, single, number, name, i, depth, variant, salt)
                for i in range(2)]
        else:
            values[name] = _single_sample(schema, ft, number, name, 0, depth, variant, salt)
    return values


def _map_key_sample(type_name: str, number: int, item: int) -> Any:
    if type_name == "string":
        return f"key{number}-{item}"
    if type_name == "bool":
        return bool(item)  # keys False and True
    return _scalar_sample(type_name, number, "k", item)


# --------------------------------------------------------------------------- our classes


def build_message(cls: type[Message], schema: Schema, values: Mapping[str, Any]) -> Message:
    """Instantiate our generated ``cls`` and set ``values`` through its Python API."""
    msg = cls()
    _fill(msg, schema, msg.DESCRIPTOR.full_name, values)
    return msg


def _fill(msg: Message, schema: Schema, full_name: str, values: Mapping[str, Any]) -> None:
    types = {name: ft for _, ft, name in schema.fields(full_name)}
    for name, value in values.items():
        ft = types[name]
        if ft.kind == "map":
            container = getattr(msg, name)
            assert ft.value is not None
            for key, item in value.items():
                if ft.value.kind == "msg":
                    _fill(container[key], schema, ft.value.name, item)
                else:
                    container[key] = item
        elif ft.repeated:
            container = getattr(msg, name)
            for item in value:
                if ft.kind == "msg":
                    _fill(container.add(), schema, ft.name, item)
                else:
                    container.append(item)
        elif ft.kind == "msg":
            sub = getattr(msg, name)
            sub.SetInParent()
            _fill(sub, schema, ft.name, value)
        else:
            setattr(msg, name, value)


def read_message(msg: Message, schema: Schema, full_name: str) -> dict[str, Any]:
    """Read the set fields of our ``msg`` back into the ``values`` dict form."""
    out: dict[str, Any] = {}
    for _, ft, name in schema.fields(full_name):
        value = getattr(msg, name)
        if ft.kind == "map":
            assert ft.value is not None
            vt = ft.value
            if len(value):
                out[name] = {k: (read_message(v, schema, vt.name) if vt.kind == "msg" else v)
                             for k, v in value.items()}
        elif ft.repeated:
            if len(value):
                out[name] = [read_message(v, schema, ft.name) if ft.kind == "msg" else v
                             for v in value]
        elif ft.kind == "msg" or ft.qualifier == "optional" or ft.oneof:
            if msg.HasField(name):
                out[name] = read_message(value, schema, ft.name) if ft.kind == "msg" else value
        elif value != _default(ft):
            out[name] = value
    return out


def _default(ft: FieldType) -> Any:
    if ft.kind == "enum":
        return 0
    return {"bool": False, "string": "", "bytes": b"", "double": 0.0,
            "float": 0.0}.get(ft.name, 0)


def _values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return bool(a == b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_values_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_values_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# --------------------------------------------------------------------------- descriptor checks


def _descriptor_fields(desc: Descriptor) -> dict[int, tuple[str, str]]:
    """Our descriptor's fields as ``number -> (name, type spec)`` in table syntax."""
    proto = descriptor_pb2.DescriptorProto()
    desc.CopyToProto(proto)
    nested = {n.name: n for n in proto.nested_type}
    oneof_names = [o.name for o in proto.oneof_decl]
    out: dict[int, tuple[str, str]] = {}
    for fp in proto.field:
        out[fp.number] = (fp.name, _spec_of(fp, nested, oneof_names))
    return out


def _base_spec(fp: descriptor_pb2.FieldDescriptorProto) -> str:
    if fp.type == descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE:
        return "msg:" + fp.type_name.lstrip(".")
    if fp.type == descriptor_pb2.FieldDescriptorProto.TYPE_ENUM:
        return "enum:" + fp.type_name.lstrip(".")
    if fp.type == descriptor_pb2.FieldDescriptorProto.TYPE_GROUP:
        return "group"
    return _PROTO_TYPE_NAMES[fp.type]


def _spec_of(fp: descriptor_pb2.FieldDescriptorProto,
             nested: Mapping[str, descriptor_pb2.DescriptorProto],
             oneof_names: Sequence[str]) -> str:
    base = _base_spec(fp)
    repeated = fp.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
    if repeated and fp.type == descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE:
        entry = nested.get(fp.type_name.rsplit(".", 1)[-1])
        if entry is not None and entry.options.map_entry:
            kv = {f.number: f for f in entry.field}
            return f"map<{_base_spec(kv[1])},{_base_spec(kv[2])}>"
    if repeated:
        return "repeated " + base
    if fp.proto3_optional:
        return "optional " + base
    if fp.HasField("oneof_index"):
        return f"oneof={oneof_names[fp.oneof_index]} {base}"
    return base


def assert_descriptor_matches(desc: Descriptor, schema: Schema) -> None:
    """(c): our descriptor declares exactly the golden table's fields, both directions."""
    golden = {num: (name, ft.describe()) for num, ft, name in schema.fields(desc.full_name)}
    ours = _descriptor_fields(desc)
    problems = []
    for num in sorted(set(golden) | set(ours)):
        if num not in ours:
            problems.append(f"field {num} {golden[num]} missing from our descriptor")
        elif num not in golden:
            problems.append(f"field {num} {ours[num]} not in the golden (upstream) table")
        elif golden[num] != ours[num]:
            problems.append(f"field {num}: upstream {golden[num]} != ours {ours[num]}")
    assert not problems, f"{desc.full_name}: " + "; ".join(problems)


def assert_wire_roundtrip(cls: type[Message], schema: Schema, variant: int = 0) -> None:
    """(a) decode golden bytes into the expected values; (b) encode them to the same bytes."""
    name = cls.DESCRIPTOR.full_name
    values = sample_values(schema, name, variant=variant)
    golden = encode_fields(schema, name, values)

    decoded = cls.FromString(golden)
    got = read_message(decoded, schema, name)
    assert _values_equal(got, values), f"{name}: decoded {got!r}\n  expected {values!r}"

    unpacked = encode_fields(schema, name, values, packed=False)
    if unpacked != golden:
        got = read_message(cls.FromString(unpacked), schema, name)
        assert _values_equal(got, values), f"{name} (unpacked form): decoded {got!r}"

    ours = build_message(cls, schema, values).SerializeToString(deterministic=True)
    assert ours == golden, (f"{name}: our encoding differs from the golden bytes\n"
                            f"  ours:   {decode_raw(ours)!r}\n  golden: {decode_raw(golden)!r}")


def oneof_variants(schema: Schema, full_name: str) -> int:
    counts: dict[str, int] = {}
    for _, ft, _ in schema.fields(full_name):
        if ft.oneof:
            counts[ft.oneof] = counts.get(ft.oneof, 0) + 1
    return max(counts.values(), default=1)


def assert_message_matches(cls: type[Message], schema: Schema) -> None:
    """All golden checks for one generated class: (c) fields, (a) decode, (b) encode."""
    assert_descriptor_matches(cls.DESCRIPTOR, schema)
    for variant in range(oneof_variants(schema, cls.DESCRIPTOR.full_name)):
        assert_wire_roundtrip(cls, schema, variant)


def assert_enum_matches(desc: EnumDescriptor, schema: Schema) -> None:
    ours = {v.name: v.number for v in desc.values}
    golden = dict(schema.enums[desc.full_name])
    assert ours == golden, f"enum {desc.full_name}: ours {ours} != upstream {golden}"


def assert_service_matches(desc: ServiceDescriptor, schema: Schema) -> None:
    """Method names, request/response types and streaming flags, both directions."""
    golden = dict(schema.services[desc.full_name])
    ours: dict[str, Method] = {}
    proto = descriptor_pb2.ServiceDescriptorProto()
    desc.CopyToProto(proto)
    for m in proto.method:
        ours[m.name] = (m.input_type.lstrip("."), m.output_type.lstrip("."),
                        m.client_streaming, m.server_streaming)
    problems = []
    for name in sorted(set(golden) | set(ours)):
        if name not in ours:
            problems.append(f"method {name} missing from our service")
        elif name not in golden:
            problems.append(f"method {name} not in the golden (upstream) table")
        elif golden[name] != ours[name]:
            problems.append(f"method {name}: upstream {golden[name]} != ours {ours[name]}")
    assert not problems, f"{desc.full_name}: " + "; ".join(problems)


def reachable_messages(schema: Schema, service: str | None = None,
                       roots: Iterable[str] = ()) -> set[str]:
    """Every message used (transitively) by a service's RPCs and/or the given roots."""
    todo = list(roots)
    if service is not None:
        for req, resp, _, _ in schema.services[service].values():
            todo += [req, resp]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for _, ft, _ in schema.fields(name):
            t = ft.value if ft.kind == "map" else ft
            assert t is not None
            if t.kind == "msg":
                todo.append(t.name)
    return seen


def reachable_enums(schema: Schema, messages: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for name in messages:
        for _, ft, _ in schema.fields(name):
            t = ft.value if ft.kind == "map" else ft
            assert t is not None
            if t.kind == "enum":
                out.add(t.name)
    return out


# --------------------------------------------------------------------------- shared tables

# google/protobuf/{any,duration,timestamp,empty}.proto and google/rpc/status.proto
WELL_KNOWN = Schema(messages={
    "google.protobuf.Any": [(1, "string", "type_url"), (2, "bytes", "value")],
    "google.protobuf.Duration": [(1, "int64", "seconds"), (2, "int32", "nanos")],
    "google.protobuf.Timestamp": [(1, "int64", "seconds"), (2, "int32", "nanos")],
    "google.protobuf.Empty": [],
    "google.rpc.Status": [(1, "int32", "code"), (2, "string", "message"),
                          (3, "repeated msg:google.protobuf.Any", "details")],
})

# siderolabs/talos api/common/common.proto (messages and enums; extensions are not on the wire),
# checked against the newest revision as published in a generated client (common.pbjson.dart,
# which has Code.CANCELED=2, ContainerdNamespace and the NetIP* messages)
COMMON = Schema(
    messages={
        "common.Error": [(1, "enum:common.Code", "code"), (2, "string", "message"),
                         (3, "repeated msg:google.protobuf.Any", "details")],
        "common.Metadata": [(1, "string", "hostname"), (2, "string", "error"),
                            (3, "msg:google.rpc.Status", "status")],
        "common.Data": [(1, "msg:common.Metadata", "metadata"), (2, "bytes", "bytes")],
        "common.DataResponse": [(1, "repeated msg:common.Data", "messages")],
        "common.Empty": [(1, "msg:common.Metadata", "metadata")],
        "common.EmptyResponse": [(1, "repeated msg:common.Empty", "messages")],
        "common.URL": [(1, "string", "full_path")],
        "common.PEMEncodedCertificateAndKey": [(1, "bytes", "crt"), (2, "bytes", "key")],
        "common.PEMEncodedKey": [(1, "bytes", "key")],
        "common.PEMEncodedCertificate": [(1, "bytes", "crt")],
        "common.NetIP": [(1, "bytes", "ip")],
        "common.NetIPPort": [(1, "bytes", "ip"), (2, "int32", "port")],
        "common.NetIPPrefix": [(1, "bytes", "ip"), (2, "int32", "prefix_length")],
        "common.ContainerdInstance": [(1, "enum:common.ContainerDriver", "driver"),
                                      (2, "enum:common.ContainerdNamespace", "namespace")],
    },
    enums={
        "common.Code": {"FATAL": 0, "LOCKED": 1, "CANCELED": 2},
        "common.ContainerDriver": {"CONTAINERD": 0, "CRI": 1},
        "common.ContainerdNamespace": {"NS_UNKNOWN": 0, "NS_SYSTEM": 1, "NS_CRI": 2},
    },
).merge(WELL_KNOWN)
