"""Whole-file golden checks built on ``golden`` (one encoder: golden's).

``golden`` checks one message, enum or service against a hand-transcribed table. This module
adds what a per-package test needs on top of it:

* ``declared_types(file_descriptor)``: every message (nested ones too, map entries excluded),
  enum and service our generated ``.proto`` file declares, by full name;
* ``assert_file_matches(file_descriptor, schema)``: our file declares exactly the table's
  messages, enums and services of its package (nothing missing, nothing extra);
* ``rpc_messages(schema, package)``: every message reachable from the package's RPCs plus every
  message the package declares, i.e. what the golden tests must cover;
* ``message_class(full_name)``: the generated class registered for a full name;
* ``values_strategy(schema, full_name)``: a hypothesis strategy for the ``values`` dict form
  ``golden.encode_fields`` takes, with proto3 defaults left out so both encoders agree;
* ``assert_values_roundtrip(schema, full_name, values)``: golden checks (a) and (b) for
  arbitrary values (``golden.assert_wire_roundtrip`` uses fixed sample values);
* ``assert_table_matches_upstream(schema, full_name)``: the hand-written table equals the
  serialized upstream descriptor in ``upstream_descriptors`` (guards against typos);
* ``call_raw(channel, path, client_stream, server_stream)``: one raw call on a gRPC path;
* ``package_tests(schema, file_descriptor)``: all of the above as parametrized pytest
  functions, so a package's test module is its upstream tables plus one line.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from golden import (
    LEN,
    SCALARS,
    FieldType,
    Schema,
    _spec_of,
    assert_enum_matches,
    assert_message_matches,
    assert_service_matches,
    build_message,
    decode_raw,
    encode_fields,
    reachable_messages,
    read_message,
)
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FileDescriptor
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st
from upstream_descriptors import ENUMS, MESSAGES, SERVICES


def message_class(full_name: str) -> type[Message]:
    """Generated class for ``full_name``; its module must have been imported."""
    desc = descriptor_pool.Default().FindMessageTypeByName(full_name)
    return message_factory.GetMessageClass(desc)


def _walk(desc: Descriptor, messages: set[str], enums: set[str]) -> None:
    if desc.GetOptions().map_entry:
        return
    messages.add(desc.full_name)
    enums.update(e.full_name for e in desc.enum_types)
    for nested in desc.nested_types:
        _walk(nested, messages, enums)


def declared_types(fd: FileDescriptor) -> tuple[set[str], set[str], set[str]]:
    """(messages, enums, services) declared by ``fd``, nested types included."""
    messages: set[str] = set()
    enums = {e.full_name for e in fd.enum_types_by_name.values()}
    for desc in fd.message_types_by_name.values():
        _walk(desc, messages, enums)
    services = {s.full_name for s in fd.services_by_name.values()}
    return messages, enums, services


def _in_package(names: Any, package: str) -> set[str]:
    return {n for n in names if n.startswith(package + ".")}


def assert_file_matches(fd: FileDescriptor, schema: Schema) -> None:
    """Our file declares exactly the golden tables of its package, in both directions."""
    ours = declared_types(fd)
    golden = (_in_package(schema.messages, fd.package), _in_package(schema.enums, fd.package),
              _in_package(schema.services, fd.package))
    problems = []
    for kind, have, want in zip(("message", "enum", "service"), ours, golden, strict=True):
        problems += [f"{kind} {n} missing from {fd.name}" for n in sorted(want - have)]
        problems += [f"{kind} {n} in {fd.name} has no upstream table" for n in sorted(have - want)]
    assert not problems, "; ".join(problems)
    assert not schema.check_closed(), schema.check_closed()


def rpc_messages(schema: Schema, package: str) -> list[str]:
    """Messages of every RPC of ``package`` (transitively) and every message it declares."""
    names = set(_in_package(schema.messages, package))
    for service in _in_package(schema.services, package):
        names |= reachable_messages(schema, service)
    return sorted(names)


def package_enums(schema: Schema, package: str) -> list[str]:
    return sorted(_in_package(schema.enums, package))


def package_services(schema: Schema, package: str) -> list[str]:
    return sorted(_in_package(schema.services, package))


def assert_values_roundtrip(schema: Schema, full_name: str, values: dict[str, Any]) -> None:
    """Golden bytes of ``values`` decode to ``values`` and ours encode to the same bytes."""
    cls = message_class(full_name)
    golden = encode_fields(schema, full_name, values)
    got = read_message(cls.FromString(golden), schema, full_name)
    assert got == values, f"{full_name}: decoded {got!r}, expected {values!r}"
    ours = build_message(cls, schema, values).SerializeToString(deterministic=True)
    if ours != golden:  # map entries may come in another order (upb's is not lexicographic)
        assert _canonical(schema, full_name, ours) == _canonical(schema, full_name, golden), (
            f"{full_name}: ours {decode_raw(ours)!r} != golden {decode_raw(golden)!r}")


def _canonical(schema: Schema, full_name: str, data: bytes) -> list[Any]:
    """Raw fields of ``data`` with nested messages expanded and each map's entries sorted.

    Map entry order is not part of the wire format; everything else stays byte-exact.
    """
    types = {num: ft for num, ft, _ in schema.fields(full_name)}
    out: list[Any] = []
    for number, wire_type, raw in decode_raw(data):
        ft = types.get(number)
        if ft is not None and wire_type == LEN and ft.kind == "map":
            assert ft.value is not None
            entry = [(n, w, _canonical(schema, ft.value.name, v)
                      if ft.value.kind == "msg" and n == 2 else v)
                     for n, w, v in decode_raw(raw)]
            out.append(("map", number, repr(entry)))
        elif ft is not None and wire_type == LEN and ft.kind == "msg":
            out.append((number, wire_type, _canonical(schema, ft.name, raw)))
        else:
            out.append((number, wire_type, raw))
    # entries of one map field are contiguous in both encodings: sort each run
    result: list[Any] = []
    run: list[Any] = []
    for item in [*out, None]:
        if run and (item is None or item[0] != "map" or item[1] != run[0][1]):
            result += sorted(run)
            run = []
        if item is not None and item[0] == "map":
            run.append(item)
        elif item is not None:
            result.append(item)
    return result


# --------------------------------------------------------------------------- upstream bytes


def _enum_table(proto: descriptor_pb2.EnumDescriptorProto) -> dict[str, int]:
    return {v.name: v.number for v in proto.value}


def assert_table_matches_upstream(schema: Schema, full_name: str) -> None:
    """The hand-written table of ``full_name`` equals upstream's serialized descriptor.

    Messages compare field numbers, names and types (nested enums too); enums their values;
    services their methods. ``upstream_descriptors`` must hold the name.
    """
    if full_name in SERVICES:
        sp = descriptor_pb2.ServiceDescriptorProto.FromString(
            base64.b64decode(SERVICES[full_name]))
        upstream_methods = {m.name: (m.input_type.lstrip("."), m.output_type.lstrip("."),
                                     m.client_streaming, m.server_streaming)
                            for m in sp.method}
        assert dict(schema.services[full_name]) == upstream_methods, full_name
        return
    if full_name in ENUMS:
        ep = descriptor_pb2.EnumDescriptorProto.FromString(base64.b64decode(ENUMS[full_name]))
        assert dict(schema.enums[full_name]) == _enum_table(ep), full_name
        return
    assert full_name in MESSAGES, f"no upstream descriptor stored for {full_name}"
    mp = descriptor_pb2.DescriptorProto.FromString(base64.b64decode(MESSAGES[full_name]))
    assert full_name.rsplit(".", 1)[-1] == mp.name
    nested = {n.name: n for n in mp.nested_type}
    oneofs = [o.name for o in mp.oneof_decl]
    upstream = {fp.number: (fp.name, _spec_of(fp, nested, oneofs)) for fp in mp.field}
    table = {num: (name, ft.describe()) for num, ft, name in schema.fields(full_name)}
    assert table == upstream, f"{full_name}: table {table} != upstream {upstream}"
    for ep in mp.enum_type:
        enum_name = f"{full_name}.{ep.name}"
        assert dict(schema.enums.get(enum_name, {})) == _enum_table(ep), enum_name


def upstream_checked_names(schema: Schema, package: str) -> list[str]:
    """Package tables to check against upstream bytes (nested enums go with their message)."""
    messages = _in_package(schema.messages, package)
    top_enums = {e for e in _in_package(schema.enums, package)
                 if e.rsplit(".", 1)[0] not in messages}
    return sorted(messages | top_enums | _in_package(schema.services, package))


# --------------------------------------------------------------------------- gRPC paths


@contextlib.asynccontextmanager
async def served_channel(
        add_servicers: Callable[[grpc.aio.Server], None]) -> AsyncIterator[grpc.aio.Channel]:
    """A channel to an insecure loopback server holding what ``add_servicers`` adds."""
    server = grpc.aio.server()
    add_servicers(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            yield ch
    finally:
        await server.stop(None)


async def call_raw(channel: grpc.aio.Channel, path: str, client_stream: bool,
                   server_stream: bool) -> None:
    """Call ``path`` with an empty message in the given streaming shape; drain any stream."""
    if client_stream and server_stream:
        async for _ in channel.stream_stream(path)(iter([b""]), timeout=10):
            pass
    elif client_stream:
        await channel.stream_unary(path)(iter([b""]), timeout=10)
    elif server_stream:
        async for _ in channel.unary_stream(path)(b"", timeout=10):
            pass
    else:
        await channel.unary_unary(path)(b"", timeout=10)


# --------------------------------------------------------------------------- hypothesis

_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1), "sint32": (-(2**31), 2**31 - 1),
    "sfixed32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1), "fixed32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1), "sint64": (-(2**63), 2**63 - 1),
    "sfixed64": (-(2**63), 2**63 - 1), "uint64": (0, 2**64 - 1), "fixed64": (0, 2**64 - 1),
}


def _scalar_strategy(name: str) -> st.SearchStrategy[Any]:
    if name in _INT_RANGES:
        lo, hi = _INT_RANGES[name]
        return st.integers(lo, hi)
    if name == "bool":
        return st.booleans()
    if name == "string":
        return st.text(max_size=12)
    if name == "bytes":
        return st.binary(max_size=12)
    if name == "double":
        return st.floats(allow_nan=False)
    if name == "float":
        return st.floats(allow_nan=False, width=32)
    raise ValueError(f"not a scalar: {name}")


def _is_default(ft: FieldType, value: Any) -> bool:
    if ft.kind == "map" or ft.repeated:
        return len(value) == 0
    if ft.kind == "msg" or ft.qualifier == "optional" or ft.oneof:
        return False  # explicit presence: always on the wire once set
    if ft.kind == "enum":
        return bool(value == 0)
    return bool(value == type(value)())  # 0, 0.0 (and -0.0), False, "", b""


def _single_strategy(schema: Schema, ft: FieldType, depth: int) -> st.SearchStrategy[Any]:
    if ft.kind == "scalar":
        return _scalar_strategy(ft.name)
    if ft.kind == "enum":
        return st.sampled_from(sorted(set(schema.enums[ft.name].values())))
    return values_strategy(schema, ft.name, depth + 1)


def values_strategy(schema: Schema, full_name: str,
                    depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Random ``values`` dicts for ``full_name`` (at most one member per oneof)."""
    if depth >= 3:
        return st.just({})
    fields = schema.fields(full_name)
    per_field: dict[str, st.SearchStrategy[Any]] = {}
    oneofs: dict[str, list[str]] = {}
    for _, ft, name in fields:
        if ft.kind == "map":
            assert ft.value is not None and ft.key in SCALARS
            per_field[name] = st.dictionaries(_scalar_strategy(ft.key),
                                              _single_strategy(schema, ft.value, depth),
                                              max_size=2)
        elif ft.repeated:
            single = FieldType(ft.kind, ft.name)
            per_field[name] = st.lists(_single_strategy(schema, single, depth), max_size=2)
        else:
            per_field[name] = _single_strategy(schema, ft, depth)
        if ft.oneof:
            oneofs.setdefault(ft.oneof, []).append(name)
    types = {name: ft for _, ft, name in fields}

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        chosen = {draw(st.sampled_from([*members, ""])) for members in oneofs.values()}
        values: dict[str, Any] = {}
        for name, strategy in per_field.items():
            ft = types[name]
            if ft.oneof and name not in chosen:
                continue
            if not draw(st.booleans()):
                continue
            value = draw(strategy)
            if not _is_default(ft, value):
                values[name] = value
        return values

    return build()


# --------------------------------------------------------------------------- test factory


def package_tests(schema: Schema, fd: FileDescriptor) -> dict[str, Callable[..., None]]:
    """The golden test functions for one package, by ``test_*`` name.

    A test module binds them with ``globals().update(package_tests(SCHEMA, pb2.DESCRIPTOR))``.
    File, service, message, enum, upstream-descriptor and random-values tests; each is
    parametrized over the package's tables, so a failure names the type that drifted.
    """
    package = fd.package
    messages = rpc_messages(schema, package)

    def test_file_declares_exactly_upstream_types() -> None:
        assert_file_matches(fd, schema)

    @pytest.mark.parametrize("name", package_services(schema, package) or ["(none)"])
    def test_service_matches_upstream(name: str) -> None:
        if name == "(none)":
            assert not declared_types(fd)[2], "upstream declares no service in this package"
            return
        assert_service_matches(fd.pool.FindServiceByName(name), schema)

    @pytest.mark.parametrize("name", messages)
    def test_message_matches_upstream(name: str) -> None:
        assert_message_matches(message_class(name), schema)

    @pytest.mark.parametrize("name", package_enums(schema, package) or ["(none)"])
    def test_enum_matches_upstream(name: str) -> None:
        if name == "(none)":
            assert not declared_types(fd)[1], "upstream declares no enum in this package"
            return
        assert_enum_matches(fd.pool.FindEnumTypeByName(name), schema)

    @pytest.mark.parametrize("name", upstream_checked_names(schema, package))
    def test_table_matches_upstream_descriptor(name: str) -> None:
        assert_table_matches_upstream(schema, name)

    @pytest.mark.parametrize("name", sorted(_in_package(schema.messages, package)))
    @settings(max_examples=25, deadline=None, database=None)
    @given(data=st.data())
    def test_random_values_roundtrip(name: str, data: st.DataObject) -> None:
        assert_values_roundtrip(schema, name, data.draw(values_strategy(schema, name)))

    tests = (test_file_declares_exactly_upstream_types, test_service_matches_upstream,
             test_message_matches_upstream, test_enum_matches_upstream,
             test_table_matches_upstream_descriptor, test_random_values_roundtrip)
    return {t.__name__: t for t in tests}
