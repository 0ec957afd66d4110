"""`reboot` on a terminal: the live per-node table and the result lines (stderr on a pty)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
from pathlib import Path

from tests.e2e.talosctl.conftest import HOSTS, TALOSCTL, E2ECluster

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
WORKER_CONFIG = """version: v1alpha1
machine:
  type: worker
{extras}  network:
    hostname: e2e-2
cluster:
  clusterName: e2e
  controlPlane:
    endpoint: https://127.0.0.2:6443
"""


def run_on_terminal(e2e: E2ECluster, *args: str) -> tuple[int, str, str]:
    """talosctl with stderr on a pseudo-terminal (stdout a pipe): (code, stdout, tty text)."""
    assert TALOSCTL is not None
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([TALOSCTL, "-e", e2e.endpoint(), *args],
                                stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
                                env=e2e.env(TERM="xterm"), cwd=e2e.tmp)
    finally:
        os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child side of the terminal is closed
                break
            if not data:
                break
            chunks.append(data)
        assert proc.stdout is not None
        stdout = proc.stdout.read().decode()
        proc.stdout.close()
        code = proc.wait(timeout=300)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, stdout, b"".join(chunks).decode(errors="replace")


def test_reboot_on_a_terminal_shows_a_live_table_and_result_lines(e2e: E2ECluster) -> None:
    host = HOSTS[1]
    code, stdout, tty = run_on_terminal(e2e, "-n", host, "reboot")
    text = ANSI.sub("", tty).replace("\r", "")
    assert code == 0, text
    assert "Traceback" not in text
    assert "\x1b[" in tty  # drawn for a terminal
    header = next(ln for ln in text.splitlines() if ln.startswith("NODE"))
    assert header.split() == ["NODE", "SEQUENCE", "PHASE", "TASK", "STATE", "ELAPSED"]
    # the table went through the node's phases, then ended with a result line
    assert any(ln.startswith(host) and "boot" in ln.split() for ln in text.splitlines())
    last = text.rstrip().splitlines()[-1]
    assert last.startswith(f"✓ {host}: rebooted"), text
    # plain progress lines are for pipes only; stdout keeps the result table
    assert f"{host}: sequence reboot: start" not in text
    assert [ln.split()[:2] for ln in stdout.splitlines()] == [["NODE", "RESULT"],
                                                              [host, "rebooted"]]
    r = e2e.run("-n", host, "version", "--short")
    assert r.returncode == 0, r.stderr



def test_reboot_on_a_terminal_says_its_result_once(e2e: E2ECluster) -> None:
    """stdout and stderr on one terminal (as a user runs it): the table is cleared at the
    end and the result is said once, by the result line; no result table after it."""
    assert TALOSCTL is not None
    host = HOSTS[1]
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([TALOSCTL, "-e", e2e.endpoint(), "-n", host, "reboot"],
                                stdout=slave, stderr=slave, stdin=subprocess.DEVNULL,
                                env=e2e.env(TERM="xterm"), cwd=e2e.tmp)
    finally:
        os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child side of the terminal is closed
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=300)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    raw = b"".join(chunks).decode(errors="replace")
    text = ANSI.sub("", raw).replace("\r", "")
    assert code == 0, text
    lines = text.rstrip().splitlines()
    assert lines[-1].startswith(f"✓ {host}: rebooted"), text
    assert sum(ln.startswith(f"✓ {host}:") for ln in lines) == 1, text
    assert not any(ln.split()[:1] == ["NODE"] and "RESULT" in ln.split() for ln in lines)
    # the live table was erased once the operation ended (rich's transient Live)
    assert "\x1b[2K" in raw


def test_debug_waits_and_prints_console_logs_of_failed_nodes(e2e: E2ECluster) -> None:
    host = HOSTS[2]
    node = e2e.nodes[host]
    assert node.machined is not None
    # --debug implies --wait; a timeout too short to see the shutdown fails the node, and its
    # captured kernel log is printed after the header Talos prints
    r = e2e.run("-n", host, "shutdown", "--force", "--debug", "--wait=false",
                "--timeout", "0.001")
    try:
        assert r.returncode == 1, r.stderr
        assert "shutdown requested" not in r.stdout
        assert [ln.split()[:2] for ln in r.stdout.splitlines()] == [["NODE", "RESULT"],
                                                                   [host, "FAILED:"]]
        assert f"console logs for nodes ['{host}']:" in r.stderr
        assert "timed out waiting for the node" in r.stderr
    finally:
        # the node powers off all the same: once its machined has exited, start it again
        node.machined.wait(timeout=300)
        e2e.restart_node(host)


def test_apply_config_that_reboots_shows_the_live_table(e2e: E2ECluster,
                                                        tmp_path: Path) -> None:
    host = HOSTS[1]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(WORKER_CONFIG.format(extras=e2e.machine_extras()))
    code, stdout, tty = run_on_terminal(e2e, "-n", host, "apply-config", "-f", str(cfg),
                                        "--mode", "reboot", "--yes")
    text = ANSI.sub("", tty).replace("\r", "")
    assert code == 0, text
    assert any(ln.split()[:2] == ["NODE", "SEQUENCE"] for ln in text.splitlines()), text
    assert text.rstrip().splitlines()[-1].startswith(f"✓ {host}: rebooted"), text
    assert stdout.splitlines()[-1].split()[:2] == [host, "rebooted"]
