"""The CLI and every node component start and describe themselves."""

from __future__ import annotations

import subprocess
import sys

import pytest

from talos.machinery.version import build_info


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def test_talosctl_help_lists_commands_and_global_flags() -> None:
    result = run("talosctl", "--help")
    assert result.returncode == 0, result.stderr
    for flag in ("--nodes", "--endpoints", "--talosconfig", "--context"):
        assert flag in result.stdout
    assert "version" in result.stdout


def test_talosctl_version_client_prints_client_build() -> None:
    result = run("talosctl", "version", "--client")
    assert result.returncode == 0, result.stderr
    info = build_info()
    assert result.stdout.startswith("Client:\n")
    assert f"Tag:         {info.tag}" in result.stdout
    assert f"OS/Arch:     {info.os}/{info.arch}" in result.stdout


def test_talosctl_unknown_command_is_a_clear_error_not_a_traceback() -> None:
    result = run("talosctl", "no-such-command")
    assert result.returncode != 0
    assert "No such command 'no-such-command'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("component", ["machined", "apid", "trustd"])
def test_component_starts_with_help(component: str) -> None:
    result = run(sys.executable, "-m", "talos", component, "--help")
    assert result.returncode == 0, result.stderr
    assert component in result.stdout


def test_unknown_component_is_rejected() -> None:
    result = run(sys.executable, "-m", "talos", "kubelet")
    assert result.returncode == 2
    assert "unknown component 'kubelet'" in result.stderr
