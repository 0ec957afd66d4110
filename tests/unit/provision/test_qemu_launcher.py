"""A VM's launcher (talos.provision.qemu.launcher), with a stand-in `qemu-system-x86_64` on
PATH: it runs qemu so that a guest reboot does not end it (no -no-reboot), serves the node
its config to the node's address only for as long as the VM runs, ends with qemu on a
power-off, and stops qemu when destroy SIGTERMs it."""

from __future__ import annotations

import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from talos.imager import qemu
from talos.machinery.errors import FailedPrecondition
from talos.provision.marked import carries
from talos.provision.qemu import launcher, vm

FAKE_QEMU = """#!/bin/sh
# stands in for qemu: records its arguments, runs until "power-off" appears (or SIGTERM)
trap 'exit 0' TERM
printf '%s\\n' "$@" > argv
[ -e refuse ] && { echo "qemu: refused for the test" >&2; exit 1; }
while [ ! -e poweroff ]; do sleep 0.05; done
exit 0
"""


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid if not _alive(pid) else 0
        if done:
            return
        time.sleep(0.02)
    raise AssertionError(f"pid {pid} still runs")


@pytest.fixture
def node_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "qemu-system-x86_64"
    fake.write_text(FAKE_QEMU)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ.get('PATH', '')}")
    d = tmp_path / "node"
    d.mkdir(mode=0o700)
    return d


def _spec(d: Path) -> launcher.LaunchSpec:
    return launcher.LaunchSpec("n1", "127.0.0.1", "127.0.0.1", qemu.VM(
        serial_log=str(d / "console.log"), kernel="k", initrd="i", cmdline="ip=x",
        tap="tv1", no_reboot=False))


def _config_url(d: Path) -> str:
    argv = (d / "argv").read_text().splitlines()
    append = argv[argv.index("-append") + 1]
    return append.split("talos.config=", 1)[1]


def test_the_launcher_serves_the_config_while_qemu_runs_and_stops_qemu_on_sigterm(
        node_dir: Path) -> None:
    launched = vm.launch(node_dir, _spec(node_dir), b"machine: one\n")
    try:
        assert launched.qemu_pid != launched.launcher_pid and _alive(launched.qemu_pid)
        argv = (node_dir / "argv").read_text().splitlines()
        assert "-no-reboot" not in argv  # a guest reboot resets the VM inside qemu
        # both carry the node's marker: destroy finds them as it finds a sandbox node
        marker = f"TALOS_SANDBOX_STATE={node_dir}"
        assert carries(launched.launcher_pid, marker) and carries(launched.qemu_pid, marker)
        url = _config_url(node_dir)
        assert url.startswith("http://127.0.0.1:") and url.endswith("/n1.yaml")
        assert not (node_dir / launcher.FETCHED).exists()
        # again and again: a node without an installed STATE fetches it on every boot
        for _ in range(2):
            assert _get(url) == (200, b"machine: one\n")
        deadline = time.monotonic() + 30
        while not (node_dir / launcher.FETCHED).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (node_dir / launcher.FETCHED).exists()
    finally:
        os.kill(launched.launcher_pid, signal.SIGTERM)
        _wait_gone(launched.launcher_pid)
        _wait_gone(launched.qemu_pid)
    with pytest.raises(urllib.error.URLError):
        _get(url)


def test_a_power_off_ends_qemu_and_its_launcher(node_dir: Path) -> None:
    launched = vm.launch(node_dir, _spec(node_dir), b"x")
    try:
        (node_dir / "poweroff").touch()
        _wait_gone(launched.qemu_pid)
        _wait_gone(launched.launcher_pid)
    finally:
        for pid in (launched.qemu_pid, launched.launcher_pid):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_qemu_refusing_to_start_fails_the_launch_with_its_message(node_dir: Path) -> None:
    (node_dir / "refuse").touch()
    with pytest.raises(FailedPrecondition, match="qemu exited with 1: qemu: refused for the"):
        vm.launch(node_dir, _spec(node_dir), b"x")
