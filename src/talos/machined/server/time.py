"""time.TimeService on machined: the node's clock.

A sandbox node shares the host kernel's clock and has no time server of its own, so `Time`
answers with the node's local time and names no server (remotetime stays unset: nothing
remote was asked). `TimeCheck` against a named server needs an NTP client, which this
project does not have yet: it says so.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import grpc
from google.protobuf import empty_pb2, timestamp_pb2

from talos.api.common import common_pb2
from talos.api.time import time_pb2, time_pb2_grpc

if TYPE_CHECKING:
    from talos.machined.node import Node


class TimeServicer(time_pb2_grpc.TimeServiceServicer):
    def __init__(self, node: Node) -> None:
        self.node = node

    async def Time(self, request: empty_pb2.Empty, context: grpc.aio.ServicerContext
                   ) -> time_pb2.TimeResponse:
        now = timestamp_pb2.Timestamp()
        now.FromNanoseconds(time.time_ns())
        return time_pb2.TimeResponse(messages=[time_pb2.Time(
            metadata=common_pb2.Metadata(hostname=self.node.hostname), localtime=now)])

    async def TimeCheck(self, request: time_pb2.TimeRequest,
                        context: grpc.aio.ServicerContext) -> time_pb2.TimeResponse:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED,
                            "TimeCheck: no NTP client on this node yet (the node uses the "
                            "host's clock)")
        raise AssertionError("unreachable")
