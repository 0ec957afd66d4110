"""Build identity reported by `talosctl version` and the Version RPC."""

from __future__ import annotations

import platform
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: The Talos release whose API, config format and CLI we follow.
DEFAULT_TAG = "v1.10.0-py.0.1.0"
NAME = "Talos"
#: written next to this module by `python -m talos imager --tag TAG`: the version an image
#: reports (two builds of one tree can carry different tags, e.g. to test an upgrade)
TAG_FILE = Path(__file__).with_name("build-tag")


def _tag() -> str:
    try:
        tag = TAG_FILE.read_text().strip()
    except OSError:
        return DEFAULT_TAG
    return tag or DEFAULT_TAG


TAG = _tag()


@dataclass(frozen=True)
class BuildInfo:
    tag: str
    sha: str
    built: str
    python_version: str
    os: str
    arch: str


def _git_sha() -> str:
    root = Path(__file__).resolve().parents[3]
    if not (root / ".git").exists():
        return "unknown"
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=8", "HEAD"],
            capture_output=True, text=True, timeout=2, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


@cache
def build_info() -> BuildInfo:
    machine = platform.machine()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return BuildInfo(
        tag=TAG,
        sha=_git_sha(),
        built="",
        python_version=f"python{platform.python_version()}",
        os=platform.system().lower(),
        arch=arch,
    )
