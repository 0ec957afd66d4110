"""Golden wire fixtures for machine.LifecycleService (issue 18).

Transcribed by hand from upstream siderolabs/talos v1.13.9 ``api/machine/lifecycle.proto``,
independently of our proto/machine/lifecycle.proto.
"""

from __future__ import annotations

from filecheck import assert_values_roundtrip, package_tests
from golden import COMMON, Schema

import talos.api.machine.lifecycle_pb2 as lifecycle_pb2

SVC = "machine.LifecycleService"
SCHEMA = Schema(
    messages={
        "machine.InstallArtifactsSource": [(1, "string", "image_name")],
        "machine.InstallDestination": [(1, "string", "disk")],
        f"{SVC}InstallRequest": [(1, "msg:common.ContainerdInstance", "containerd"),
                                 (2, "msg:machine.InstallArtifactsSource", "source"),
                                 (3, "msg:machine.InstallDestination", "destination")],
        f"{SVC}InstallProgress": [(1, "oneof=response string", "message"),
                                  (2, "oneof=response int32", "exit_code")],
        f"{SVC}InstallResponse": [(1, f"msg:{SVC}InstallProgress", "progress")],
        f"{SVC}UpgradeRequest": [(1, "msg:common.ContainerdInstance", "containerd"),
                                 (2, "msg:machine.InstallArtifactsSource", "source")],
        f"{SVC}UpgradeResponse": [(1, f"msg:{SVC}InstallProgress", "progress")],
    },
    services={
        SVC: {
            "Install": (f"{SVC}InstallRequest", f"{SVC}InstallResponse", False, True),
            "Upgrade": (f"{SVC}UpgradeRequest", f"{SVC}UpgradeResponse", False, True),
        },
    },
).merge(COMMON)

globals().update(package_tests(SCHEMA, lifecycle_pb2.DESCRIPTOR))


def test_upgrade_progress_exit_code_is_field_two() -> None:
    assert_values_roundtrip(SCHEMA, f"{SVC}UpgradeResponse",
                            {"progress": {"exit_code": 1}})
