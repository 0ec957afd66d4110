"""`inspect.InspectService/ControllerRuntimeDependencies`: the controller/resource graph."""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2

from talos.api.common import common_pb2
from talos.api.inspect import inspect_pb2, inspect_pb2_grpc
from talos.cosi.runtime import Runtime

EDGE_TYPES = {
    "output-exclusive": inspect_pb2.OUTPUT_EXCLUSIVE,
    "output-shared": inspect_pb2.OUTPUT_SHARED,
    "input-strong": inspect_pb2.INPUT_STRONG,
    "input-weak": inspect_pb2.INPUT_WEAK,
    "input-destroy-ready": inspect_pb2.INPUT_DESTROY_READY,
}


class InspectServicer(inspect_pb2_grpc.InspectServiceServicer):
    def __init__(self, runtime: Runtime, hostname: str = "") -> None:
        self.runtime = runtime
        self.hostname = hostname

    async def ControllerRuntimeDependencies(
            self, request: empty_pb2.Empty,
            context: grpc.aio.ServicerContext) -> inspect_pb2.ControllerRuntimeDependenciesResponse:
        edges = [inspect_pb2.ControllerDependencyEdge(
            controller_name=e.controller, edge_type=EDGE_TYPES[e.kind],
            resource_namespace=e.namespace, resource_type=e.type, resource_id=e.id)
            for e in self.runtime.dependencies()]
        msg = inspect_pb2.ControllerRuntimeDependency(edges=edges)
        if self.hostname:
            msg.metadata.CopyFrom(common_pb2.Metadata(hostname=self.hostname))
        return inspect_pb2.ControllerRuntimeDependenciesResponse(messages=[msg])
