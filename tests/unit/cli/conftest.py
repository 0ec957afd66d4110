"""Run `talosctl` as a user would, with its own HOME and working directory.

`talosctl` runs the CLI in-process (click's runner: fast, same code path as the entry
point); `talosctl_process` runs the installed `talosctl` executable in a subprocess for the
end-to-end checks (exit codes, stderr, no traceback).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from talos.talosctl.main import cli

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def talosctl(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.chdir(tmp_path)

    def run(*args: str, input: str | None = None, cwd: Path | None = None,
            extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        env: dict[str, str | None] = {"HOME": str(home), "TALOSCONFIG": None}
        env.update(extra_env or {})
        result = CliRunner().invoke(cli, list(args), input=input, env=env,
                                    prog_name="talosctl")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # an unhandled error is a bug: show its traceback
        return subprocess.CompletedProcess(["talosctl", *args], result.exit_code,
                                           result.stdout, result.stderr)

    return run


@pytest.fixture
def talosctl_process(tmp_path: Path, home: Path) -> Run:
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
