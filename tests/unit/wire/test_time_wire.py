"""Golden wire fixtures for package ``time`` (TimeService).

Transcribed by hand from upstream siderolabs/talos ``api/time/time.proto`` (commit 20d39c0b;
unchanged in the Talos v1.13 API reference, website/content/v1.13/reference/api.md at
c32c07a9). Independent of our proto/. Generated as talos.api.time, never the stdlib ``time``.
"""

from __future__ import annotations

import time

from filecheck import package_tests
from golden import COMMON, Schema

import talos.api.time.time_pb2 as time_pb2

SCHEMA = Schema(
    messages={
        "time.TimeRequest": [(1, "string", "server")],
        "time.Time": [
            (1, "msg:common.Metadata", "metadata"),
            (2, "string", "server"),
            (3, "msg:google.protobuf.Timestamp", "localtime"),
            (4, "msg:google.protobuf.Timestamp", "remotetime"),
        ],
        "time.TimeResponse": [(1, "repeated msg:time.Time", "messages")],
    },
    services={
        "time.TimeService": {
            "Time": ("google.protobuf.Empty", "time.TimeResponse", False, False),
            "TimeCheck": ("time.TimeRequest", "time.TimeResponse", False, False),
        },
    },
).merge(COMMON)

globals().update(package_tests(SCHEMA, time_pb2.DESCRIPTOR))


def test_generated_time_package_does_not_shadow_stdlib() -> None:
    assert time_pb2.DESCRIPTOR.package == "time"
    assert time_pb2.__name__ == "talos.api.time.time_pb2"
    assert callable(time.monotonic) and time.__name__ == "time"
