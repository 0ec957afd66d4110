"""Golden wire fixtures for package ``cluster`` (ClusterService).

Transcribed by hand from upstream siderolabs/talos ``api/cluster/cluster.proto`` (commit
20d39c0b; unchanged in the Talos v1.13 API reference, website/content/v1.13/reference/api.md
at c32c07a9). Upstream imports only common and google.protobuf.Duration, no machine types.
Independent of our proto/.
"""

from __future__ import annotations

from filecheck import package_tests
from golden import COMMON, Schema

import talos.api.cluster.cluster_pb2 as cluster_pb2

SCHEMA = Schema(
    messages={
        "cluster.HealthCheckRequest": [
            (1, "msg:google.protobuf.Duration", "wait_timeout"),
            (2, "msg:cluster.ClusterInfo", "cluster_info"),
        ],
        "cluster.ClusterInfo": [
            (1, "repeated string", "control_plane_nodes"),
            (2, "repeated string", "worker_nodes"),
            (3, "string", "force_endpoint"),
        ],
        "cluster.HealthCheckProgress": [
            (1, "msg:common.Metadata", "metadata"),
            (2, "string", "message"),
        ],
    },
    services={
        "cluster.ClusterService": {
            "HealthCheck": ("cluster.HealthCheckRequest", "cluster.HealthCheckProgress",
                            False, True),
        },
    },
).merge(COMMON)

globals().update(package_tests(SCHEMA, cluster_pb2.DESCRIPTOR))
