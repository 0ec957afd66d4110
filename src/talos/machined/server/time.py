"""time.TimeService on machined: the node's clock against its time server.

`Time` queries (SNTP) the first server of `TimeServerStatus` (from `machine.time.servers`)
that answers and returns the server, the node's local time and the server's time. With no
server configured it answers with the local time only and names no server (a sandbox node
keeps the host's clock). `TimeCheck` queries the server it is given, but only one the config
names: the node never sends packets to arbitrary hosts on a caller's behalf.
"""

from __future__ import annotations

import time

import grpc
from google.protobuf import empty_pb2, timestamp_pb2

from talos.api.common import common_pb2
from talos.api.time import time_pb2, time_pb2_grpc
from talos.machined.ntp import Sample, query
from talos.machined.server.context import NodeAPI
from talos.machinery.errors import FailedPrecondition, TalosError, Unavailable
from talos.machinery.resources.network import TIME_SERVER_STATUS


def _ts(ns: int) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(ns)
    return ts


class TimeServicer(time_pb2_grpc.TimeServiceServicer):
    def __init__(self, node: NodeAPI) -> None:
        self.node = node

    def _servers(self) -> tuple[str, ...]:
        r = self.node.state.get_nowait(TIME_SERVER_STATUS.default_namespace,
                                       TIME_SERVER_STATUS.type, "timeservers")
        return tuple(r.spec.time_servers) if r is not None else ()

    def _reply(self, sample: Sample | None) -> time_pb2.TimeResponse:
        md = common_pb2.Metadata(hostname=self.node.hostname)
        if sample is None:
            return time_pb2.TimeResponse(messages=[time_pb2.Time(
                metadata=md, localtime=_ts(time.time_ns()))])
        return time_pb2.TimeResponse(messages=[time_pb2.Time(
            metadata=md, server=sample.server, localtime=_ts(sample.local_ns),
            remotetime=_ts(sample.remote_ns))])

    async def Time(self, request: empty_pb2.Empty, context: grpc.aio.ServicerContext
                   ) -> time_pb2.TimeResponse:
        servers = self._servers()
        if not servers:
            return self._reply(None)
        errors = []
        for server in servers:
            try:
                return self._reply(await query(server))
            except TalosError as exc:
                errors.append(str(exc))
        raise Unavailable("no configured time server answered: " + "; ".join(errors))

    async def TimeCheck(self, request: time_pb2.TimeRequest,
                        context: grpc.aio.ServicerContext) -> time_pb2.TimeResponse:
        servers = self._servers()
        if request.server not in servers:
            named = ", ".join(servers) or "none"
            raise FailedPrecondition(
                f"server: {request.server!r} is not a time server of this node (configured in "
                f"machine.time.servers: {named}); only those are queried")
        return self._reply(await query(request.server))
