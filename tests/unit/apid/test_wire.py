"""Wire-level envelope patching agrees with protobuf's own decoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2
from talos.apid import wire
from talos.apid.route import Route, parse_route, target_address
from talos.machinery.errors import InvalidArgument

text = st.text(max_size=40)


@st.composite
def versions(draw: st.DrawFn) -> machine_pb2.Version:
    v = machine_pb2.Version(version=machine_pb2.VersionInfo(tag=draw(text), sha=draw(text)))
    if draw(st.booleans()):
        v.metadata.hostname = draw(text)
    if draw(st.booleans()):
        v.metadata.error = draw(text)
    if draw(st.booleans()):
        v.features.rbac = True
    return v


@settings(max_examples=200, deadline=None)
@given(st.lists(versions(), max_size=4), st.text(min_size=1, max_size=60))
def test_stamp_reply_sets_hostname_and_keeps_everything_else(msgs: list[machine_pb2.Version],
                                                             host: str) -> None:
    reply = machine_pb2.VersionResponse(messages=msgs).SerializeToString()
    out = machine_pb2.VersionResponse.FromString(wire.stamp_reply(reply, host))
    assert len(out.messages) == max(1, len(msgs))
    for before, after in zip(msgs, out.messages, strict=False):
        assert after.metadata.hostname == host
        assert after.metadata.error == before.metadata.error
        assert after.version == before.version
        assert after.features == before.features


@given(st.binary(max_size=200), st.text(min_size=1, max_size=30))
def test_stamp_stream_message(data: bytes, host: str) -> None:
    msg = common_pb2.Data(bytes=data, metadata=common_pb2.Metadata(hostname="old"))
    out = common_pb2.Data.FromString(wire.stamp_message(msg.SerializeToString(), host))
    assert out.bytes == data and out.metadata.hostname == host


def test_error_reply_decodes_as_any_envelope() -> None:
    out = machine_pb2.VersionResponse.FromString(wire.error_reply("n1", "boom", 14))
    (m,) = out.messages
    assert (m.metadata.hostname, m.metadata.error, m.metadata.status.code,
            m.metadata.status.message) == ("n1", "boom", 14, "boom")
    data = common_pb2.Data.FromString(wire.error_message("n2", "gone", 4))
    assert data.metadata.error == "gone" and data.metadata.hostname == "n2"


def test_merged_replies_are_concatenations() -> None:
    a = wire.stamp_reply(machine_pb2.VersionResponse(messages=[machine_pb2.Version()])
                         .SerializeToString(), "a")
    b = wire.error_reply("b", "down", 14)
    merged = machine_pb2.VersionResponse.FromString(a + b)
    assert [m.metadata.hostname for m in merged.messages] == ["a", "b"]


@pytest.mark.parametrize("garbage", [b"\xff", b"\x0a\x05ab", b"\x00\x01"])
def test_garbage_is_a_clear_error(garbage: bytes) -> None:
    with pytest.raises(InvalidArgument, match="protobuf"):
        wire.stamp_reply(garbage, "x")


def test_route_parsing() -> None:
    assert parse_route([]) == Route("local")
    assert parse_route([("node", "10.5.0.2")]) == Route("one", ("10.5.0.2",))
    assert parse_route([("nodes", "a,b"), ("nodes", "c")]) == Route("many", ("a", "b", "c"))
    assert parse_route([("nodes", "fd00::1")]) == Route("many", ("fd00::1",))
    for bad in ([("nodes", "a b")], [("nodes", "")], [("node", "a"), ("node", "b")],
                [("nodes", "a,a")], [("node", b"bin")]):
        with pytest.raises(InvalidArgument, match="metadata"):
            parse_route(bad)  # type: ignore[arg-type]
    assert target_address("10.5.0.2", 50000) == "10.5.0.2:50000"
    assert target_address("fd00::1", 50000) == "[fd00::1]:50000"
    assert target_address("node-1:123", 50000) == "node-1:123"

