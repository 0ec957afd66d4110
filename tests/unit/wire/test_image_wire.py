"""Golden wire fixtures for machine.ImageService (issue 18).

Transcribed by hand from upstream siderolabs/talos v1.13.9 ``api/machine/image.proto``,
independently of our proto/machine/image.proto.
"""

from __future__ import annotations

from filecheck import assert_values_roundtrip, package_tests
from golden import COMMON, Schema

import talos.api.machine.image_pb2 as image_pb2

SVC = "machine.ImageService"
SCHEMA = Schema(
    messages={
        f"{SVC}ListRequest": [(1, "msg:common.ContainerdInstance", "containerd")],
        f"{SVC}ListResponse": [
            (1, "string", "name"), (2, "string", "digest"), (3, "int64", "size"),
            (4, "msg:google.protobuf.Timestamp", "created_at"),
            (5, "map<string,string>", "labels"),
        ],
        f"{SVC}PullRequest": [(1, "msg:common.ContainerdInstance", "containerd"),
                            (3, "string", "image_ref")],
        f"{SVC}PullResponse": [(1, "oneof=response string", "name"),
                             (2, f"oneof=response msg:{SVC}PullProgress", "pull_progress")],
        f"{SVC}ImportRequest": [(1, "oneof=request msg:common.ContainerdInstance", "containerd"),
                              (2, "oneof=request msg:common.Data", "image_chunk")],
        f"{SVC}ImportResponse": [(1, "string", "name")],
        f"{SVC}PullLayerProgress": [
            (1, f"enum:{SVC}PullLayerProgress.Status", "status"),
            (2, "msg:google.protobuf.Duration", "elapsed"),
            (3, "int64", "offset"), (4, "int64", "total"),
        ],
        f"{SVC}PullProgress": [(1, "string", "layer_id"),
                             (2, f"msg:{SVC}PullLayerProgress", "progress")],
        f"{SVC}RemoveRequest": [(1, "msg:common.ContainerdInstance", "containerd"),
                              (2, "string", "image_ref")],
        f"{SVC}VerifyRequest": [(1, "string", "image_ref"),
                              (2, f"msg:{SVC}Credentials", "credentials")],
        f"{SVC}Credentials": [(1, "string", "host"), (2, "string", "username"),
                            (3, "string", "password")],
        f"{SVC}VerifyResponse": [(1, "bool", "verified"), (2, "string", "message"),
                               (3, "string", "digested_image_ref")],
    },
    enums={
        f"{SVC}PullLayerProgress.Status": {
            "DOWNLOADING": 0, "DOWNLOAD_COMPLETE": 1, "EXTRACTING": 2,
            "EXTRACT_COMPLETE": 3, "ALREADY_EXISTS": 4},
    },
    services={
        SVC: {
            "List": (f"{SVC}ListRequest", f"{SVC}ListResponse", False, True),
            "Pull": (f"{SVC}PullRequest", f"{SVC}PullResponse", False, True),
            "Import": (f"{SVC}ImportRequest", f"{SVC}ImportResponse", True, False),
            "Remove": (f"{SVC}RemoveRequest", "google.protobuf.Empty", False, False),
            "Verify": (f"{SVC}VerifyRequest", f"{SVC}VerifyResponse", False, False),
        },
    },
).merge(COMMON)

globals().update(package_tests(SCHEMA, image_pb2.DESCRIPTOR))


def test_pull_request_reference_is_field_three() -> None:
    # upstream skips field 2: a client sending the reference as field 2 would be ignored
    assert_values_roundtrip(SCHEMA, f"{SVC}PullRequest",
                            {"containerd": {"namespace": 1},
                             "image_ref": "10.5.0.1:5000/tiny:v1"})
