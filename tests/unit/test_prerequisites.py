"""The prerequisite check itself (tests/prerequisites.py): a tiny test file run by a real
pytest in a subprocess, with CI=true and without, needing a program that does not exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MISSING = "talos-test-no-such-program"

TESTS = f'''
import pytest
from tests.prerequisites import require

@pytest.mark.requires("{MISSING}")
def test_marked():
    pass

@pytest.mark.requires("sh")
def test_present_program_is_not_enough():
    pass
'''

CALLED = f'''
import pytest
from tests.prerequisites import require, require_tools

@pytest.fixture
def expensive():
    require_tools("sh", "{MISSING}")
    yield

def test_from_a_fixture(expensive):
    pass

@pytest.mark.requires("sh")
def test_present():
    require("sh")
'''


def run(tmp_path: Path, source: str, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers = root: needs root\n")
    (tmp_path / "test_tiny.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "-p", "tests.prerequisites", "-rA", "-q", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120, check=False)


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_missing_program_fails_under_ci_naming_it_and_its_remedy(tmp_path: Path,
                                                                  ci: str) -> None:
    res = run(tmp_path, TESTS, ci=ci)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "1 passed, 1 error" in res.stdout, res.stdout
    assert f"missing prerequisite under CI=true: program '{MISSING}' " \
           f"(fix: apt-get install {MISSING})" in res.stdout
    assert "skipped" not in res.stdout


def test_a_missing_program_skips_outside_ci(tmp_path: Path) -> None:
    res = run(tmp_path, TESTS, ci=None)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 passed, 1 skipped" in res.stdout, res.stdout
    assert f"missing prerequisite: program '{MISSING}'" in res.stdout


def test_ci_false_is_not_ci(tmp_path: Path) -> None:
    res = run(tmp_path, TESTS, ci="false")
    assert "1 passed, 1 skipped" in res.stdout, res.stdout


def test_require_from_a_fixture_fails_under_ci_and_skips_outside(tmp_path: Path) -> None:
    res = run(tmp_path, CALLED, ci="true")
    assert res.returncode == 1 and "1 passed, 1 error" in res.stdout, res.stdout
    assert f"program '{MISSING}'" in res.stdout and "program 'sh'" not in res.stdout
    res = run(tmp_path, CALLED, ci=None)
    assert res.returncode == 0 and "1 passed, 1 skipped" in res.stdout, res.stdout


ROOT_TESTS = '''
import os
import pytest

os.geteuid = lambda: 65534  # the interpreter here lives under /root: fake another user

@pytest.mark.root
def test_needs_root():
    pass

@pytest.mark.requires("root")
def test_needs_root_too():
    pass
'''


def test_root_is_required_of_a_test_run_by_another_user(tmp_path: Path) -> None:
    res = run(tmp_path, ROOT_TESTS, ci="true")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "2 errors" in res.stdout, res.stdout
    assert "ERROR test_tiny.py::test_needs_root - Failed: missing prerequisite under " \
        "CI=true: root (fix: run the tests as root" in res.stdout
    res = run(tmp_path, ROOT_TESTS, ci=None)
    assert res.returncode == 0 and "2 skipped" in res.stdout, res.stdout
