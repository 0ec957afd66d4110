"""Generated code is importable under talos.api and matches proto/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import talos.api.common.common_pb2 as common_pb2

ROOT = Path(__file__).resolve().parents[2]


def test_generated_modules_are_not_stale() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--check"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def test_generated_modules_keep_upstream_proto_names() -> None:
    # Descriptor names are upstream's ("common/common.proto", package "common"), so
    # reflection and error details name the same types a Talos client expects.
    assert common_pb2.DESCRIPTOR.name == "common/common.proto"
    assert common_pb2.DESCRIPTOR.package == "common"
    assert common_pb2.Metadata.DESCRIPTOR.full_name == "common.Metadata"
