"""Golden wire fixtures for package ``securityapi`` (SecurityService, served by trustd).

Transcribed by hand from the Talos v1.13 API reference (siderolabs/talos
website/content/v1.13/reference/api.md, commit c32c07a9): only ``Certificate`` remains;
the stored upstream ``api/security/security.proto`` (commit 74a544bf) is older and still had
ReadFile/WriteFile, which later releases removed. Independent of our proto/.
"""

from __future__ import annotations

from filecheck import package_tests
from golden import COMMON, Schema

import talos.api.security.security_pb2 as security_pb2

SCHEMA = Schema(
    messages={
        "securityapi.CertificateRequest": [(1, "bytes", "csr")],
        "securityapi.CertificateResponse": [(1, "bytes", "ca"), (2, "bytes", "crt")],
    },
    services={
        "securityapi.SecurityService": {
            "Certificate": ("securityapi.CertificateRequest", "securityapi.CertificateResponse",
                            False, False),
        },
    },
).merge(COMMON)

globals().update(package_tests(SCHEMA, security_pb2.DESCRIPTOR))


def test_file_keeps_upstream_path_and_package() -> None:
    # Upstream's file is security/security.proto while its package is securityapi.
    assert security_pb2.DESCRIPTOR.name == "security/security.proto"
    assert security_pb2.DESCRIPTOR.package == "securityapi"
