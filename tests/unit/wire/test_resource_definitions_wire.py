"""Golden wire fixtures for Talos resource specs (``talos.resource.definitions.*``).

Transcribed by hand from siderolabs/talos
``api/resource/definitions/v1alpha1/v1alpha1.proto`` (commit 5ba1df46). Independent of our
proto/. Only the files this project has are covered; see the report of issue 5.
"""

from __future__ import annotations

from filecheck import package_tests
from golden import Schema

import talos.api.resource.definitions.v1alpha1.v1alpha1_pb2 as v1alpha1_pb2

SCHEMA = Schema(messages={
    "talos.resource.definitions.v1alpha1.ServiceSpec": [
        (1, "bool", "running"), (2, "bool", "healthy"), (3, "bool", "unknown")],
})

_tests = package_tests(SCHEMA, v1alpha1_pb2.DESCRIPTOR)
# no serialized upstream descriptor of this package is stored (upstream_descriptors.py covers
# the API packages only); the table above is the hand transcription
del _tests["test_table_matches_upstream_descriptor"]
globals().update(_tests)


def test_file_keeps_the_upstream_path() -> None:
    assert v1alpha1_pb2.DESCRIPTOR.name == "resource/definitions/v1alpha1/v1alpha1.proto"
