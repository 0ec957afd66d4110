"""The hand-written golden encoder itself, checked against the protobuf encoding guide's
worked examples and against the common package (so a broken encoder cannot make every
golden test pass vacuously)."""

from __future__ import annotations

import pytest
from golden import (
    COMMON,
    Schema,
    assert_enum_matches,
    assert_message_matches,
    decode_raw,
    encode_fields,
    parse_type,
    sample_values,
    varint,
    zigzag,
)

import talos.api.common.common_pb2 as common_pb2

GUIDE = Schema(
    messages={
        "t.Test1": [(1, "int32", "a")],
        "t.Test2": [(2, "string", "b")],
        "t.Test3": [(3, "msg:t.Test1", "c")],
        "t.Test4": [(1, "string", "d"), (4, "repeated int32", "e")],
        "t.Neg": [(1, "int32", "a"), (2, "sint32", "b"), (3, "double", "c"),
                  (4, "fixed32", "d"), (5, "bool", "e")],
    })


def test_varint_and_zigzag() -> None:
    assert varint(0) == b"\x00"
    assert varint(1) == b"\x01"
    assert varint(150) == b"\x96\x01"
    assert varint(-1) == b"\xff" * 9 + b"\x01"  # int32 -1 is sign-extended to 10 bytes
    assert [zigzag(v, 32) for v in (0, -1, 1, -2, 2147483647, -2147483648)] == \
        [0, 1, 2, 3, 4294967294, 4294967295]


def test_encoding_guide_examples() -> None:
    # https://protobuf.dev/programming-guides/encoding/
    assert encode_fields(GUIDE, "t.Test1", {"a": 150}) == bytes.fromhex("089601")
    assert encode_fields(GUIDE, "t.Test2", {"b": "testing"}) == \
        bytes.fromhex("120774657374696e67")
    assert encode_fields(GUIDE, "t.Test3", {"c": {"a": 150}}) == bytes.fromhex("1a03089601")
    assert encode_fields(GUIDE, "t.Test4", {"d": "hello", "e": [1, 2, 3]}) == \
        bytes.fromhex("0a0568656c6c6f2203010203")
    assert encode_fields(GUIDE, "t.Test4", {"e": [1, 2]}, packed=False) == \
        bytes.fromhex("20012002")


def test_fixed_width_and_signed() -> None:
    raw = encode_fields(GUIDE, "t.Neg", {"a": -2, "b": -2, "c": 1.0, "d": 1, "e": True})
    assert raw == (b"\x08" + b"\xfe" + b"\xff" * 8 + b"\x01" + b"\x10\x03"
                   + b"\x19" + bytes.fromhex("000000000000f03f") + b"\x25\x01\x00\x00\x00"
                   + b"\x28\x01")
    assert [f for f, _, _ in decode_raw(raw)] == [1, 2, 3, 4, 5]


def test_type_spec_parsing() -> None:
    assert parse_type("repeated msg:common.Data").repeated
    assert parse_type("map<string,msg:a.B>").describe() == "map<string,msg:a.B>"
    assert parse_type("oneof=kind string").oneof == "kind"
    assert parse_type("optional bool").qualifier == "optional"
    with pytest.raises(ValueError, match="unknown field type"):
        parse_type("strin")
    with pytest.raises(ValueError, match="bad map key"):
        parse_type("map<double,string>")


def test_unknown_field_in_values_is_rejected() -> None:
    with pytest.raises(KeyError, match="no field"):
        encode_fields(GUIDE, "t.Test1", {"zz": 1})


def test_schema_is_closed() -> None:
    assert COMMON.check_closed() == []


@pytest.mark.parametrize("name", sorted(n for n in COMMON.messages if n.startswith("common.")))
def test_common_messages_match_upstream(name: str) -> None:
    assert_message_matches(getattr(common_pb2, name.split(".", 1)[1]), COMMON)


@pytest.mark.parametrize("name", sorted(COMMON.enums))
def test_common_enums_match_upstream(name: str) -> None:
    assert_enum_matches(common_pb2.DESCRIPTOR.enum_types_by_name[name.split(".", 1)[1]],
                        COMMON)


def test_drift_is_detected() -> None:
    # A table that disagrees with our descriptor (wrong number, extra field) must fail.
    wrong = COMMON.merge()
    messages = dict(wrong.messages)
    messages["common.Data"] = [(1, "msg:common.Metadata", "metadata"), (3, "bytes", "bytes")]
    with pytest.raises(AssertionError, match="field 2"):
        assert_message_matches(common_pb2.Data, Schema(messages, wrong.enums))
    messages["common.Data"] = [(1, "msg:common.Metadata", "metadata"), (2, "string", "bytes")]
    with pytest.raises(AssertionError, match="upstream"):
        assert_message_matches(common_pb2.Data, Schema(messages, wrong.enums))
    values = sample_values(COMMON, "common.Data")
    assert set(values) == {"metadata", "bytes"}
