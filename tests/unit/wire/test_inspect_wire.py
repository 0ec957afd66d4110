"""Golden wire fixtures for package ``inspect`` (InspectService).

Transcribed by hand from upstream siderolabs/talos ``api/inspect/inspect.proto`` (commit
20d39c0b: DependencyEdgeType OUTPUT_EXCLUSIVE=0, INPUT_STRONG=1, INPUT_WEAK=2,
OUTPUT_SHARED=3, INPUT_DESTROY_READY=4). Independent of our proto/.
"""

from __future__ import annotations

from filecheck import package_tests
from golden import COMMON, Schema

import talos.api.inspect.inspect_pb2 as inspect_pb2

SCHEMA = Schema(
    messages={
        "inspect.ControllerRuntimeDependency": [
            (1, "msg:common.Metadata", "metadata"),
            (2, "repeated msg:inspect.ControllerDependencyEdge", "edges")],
        "inspect.ControllerRuntimeDependenciesResponse": [
            (1, "repeated msg:inspect.ControllerRuntimeDependency", "messages")],
        "inspect.ControllerDependencyEdge": [
            (1, "string", "controller_name"), (2, "enum:inspect.DependencyEdgeType", "edge_type"),
            (3, "string", "resource_namespace"), (4, "string", "resource_type"),
            (5, "string", "resource_id")],
    },
    enums={"inspect.DependencyEdgeType": {"OUTPUT_EXCLUSIVE": 0, "INPUT_STRONG": 1,
                                          "INPUT_WEAK": 2, "OUTPUT_SHARED": 3,
                                          "INPUT_DESTROY_READY": 4}},
    services={"inspect.InspectService": {
        "ControllerRuntimeDependencies": ("google.protobuf.Empty",
                                          "inspect.ControllerRuntimeDependenciesResponse",
                                          False, False)}},
).merge(COMMON)

globals().update(package_tests(SCHEMA, inspect_pb2.DESCRIPTOR))
