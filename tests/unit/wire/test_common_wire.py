"""Golden wire fixtures for package ``common`` (messages nested in every reply).

The tables are ``golden.COMMON`` (transcribed from upstream siderolabs/talos
``api/common/common.proto``); checked again here against the Talos v1.13 API reference and
its generated descriptors: Code gained CANCELED=2; the remove_deprecated_* options are
descriptor extensions (field 93117), not wire fields. Independent of our proto/.
"""

from __future__ import annotations

from filecheck import assert_values_roundtrip, package_tests
from golden import COMMON, varint

import talos.api.common.common_pb2 as common_pb2

globals().update(package_tests(COMMON, common_pb2.DESCRIPTOR))


def test_metadata_error_status_as_apid_stamps_it() -> None:
    # A fan-out reply for a failed node: hostname, error text and gRPC status (code 14).
    values = {"hostname": "cp-1", "error": "connection refused",
              "status": {"code": 14, "message": "connection refused"}}
    assert_values_roundtrip(COMMON, "common.Metadata", values)


def test_hand_encoded_empty_response_bytes() -> None:
    # EmptyResponse{messages: [Empty{metadata: Metadata{hostname: "n1"}}]} spelled out byte
    # by byte from the upstream field numbers: 1 (LEN) -> 1 (LEN) -> 1 (LEN "n1").
    metadata = b"\x0a" + varint(2) + b"n1"
    empty = b"\x0a" + varint(len(metadata)) + metadata
    wire = b"\x0a" + varint(len(empty)) + empty
    msg = common_pb2.EmptyResponse.FromString(wire)
    assert [m.metadata.hostname for m in msg.messages] == ["n1"]
    assert msg.SerializeToString() == wire


def test_extension_numbers_match_upstream() -> None:
    for name in ("remove_deprecated_message", "remove_deprecated_field",
                 "remove_deprecated_enum", "remove_deprecated_enum_value",
                 "remove_deprecated_method", "remove_deprecated_service"):
        ext = common_pb2.DESCRIPTOR.extensions_by_name[name]
        assert (ext.number, ext.type) == (93117, ext.TYPE_STRING), name
