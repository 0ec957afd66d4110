"""Run `talosctl` as a user would: a real subprocess, its own HOME and working directory."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def talosctl(tmp_path: Path) -> Run:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "TALOSCONFIG"}
    env["HOME"] = str(home)

    def run(*args: str, input: str | None = None, cwd: Path | None = None,
            extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["talosctl", *args], capture_output=True, text=True,
                                cwd=cwd or tmp_path, env={**env, **(extra_env or {})},
                                input=input, timeout=120, check=False)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    return run
