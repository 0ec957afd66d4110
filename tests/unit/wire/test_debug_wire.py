"""Golden wire fixtures for machine.DebugService (issue 19).

Transcribed by hand from upstream siderolabs/talos v1.13.9 ``api/machine/debug.proto``,
independently of our proto/machine/debug.proto.
"""

from __future__ import annotations

from filecheck import assert_values_roundtrip, package_tests
from golden import COMMON, Schema

import talos.api.machine.debug_pb2 as debug_pb2

SVC = "machine.DebugService"
SPEC = "machine.DebugContainerRunRequestSpec"
SCHEMA = Schema(
    messages={
        "machine.DebugContainerRunRequest": [
            (1, f"oneof=request msg:{SPEC}", "spec"),
            (2, "oneof=request bytes", "stdin_data"),
            (3, "oneof=request int32", "signal"),
            (4, "oneof=request msg:machine.DebugContainerTerminalResize", "term_resize")],
        SPEC: [(1, "msg:common.ContainerdInstance", "containerd"),
               (2, "string", "image_name"), (3, "repeated string", "args"),
               (4, "map<string,string>", "env"),
               (5, f"enum:{SPEC}.Profile", "profile"), (6, "bool", "tty")],
        "machine.DebugContainerTerminalResize": [(1, "int32", "width"),
                                                 (2, "int32", "height")],
        "machine.DebugContainerRunResponse": [(2, "oneof=resp bytes", "stdout_data"),
                                              (3, "oneof=resp int32", "exit_code")],
    },
    enums={f"{SPEC}.Profile": {"PROFILE_UNSPECIFIED": 0, "PROFILE_PRIVILEGED": 1}},
    services={
        SVC: {"ContainerRun": ("machine.DebugContainerRunRequest",
                               "machine.DebugContainerRunResponse", True, True)},
    },
).merge(COMMON)

globals().update(package_tests(SCHEMA, debug_pb2.DESCRIPTOR))


def test_exit_code_is_field_three_of_the_response() -> None:
    assert_values_roundtrip(SCHEMA, "machine.DebugContainerRunResponse", {"exit_code": 2})
