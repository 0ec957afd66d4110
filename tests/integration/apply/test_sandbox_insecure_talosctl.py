"""`talosctl apply-config --insecure -n NODE` against a real maintenance-mode node sandbox
(machined as PID 1, its insecure API on the node's own :50000), run as a Talos user runs it:
no talosconfig anywhere (empty HOME, no TALOSCONFIG), no -e, no port: the node itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from talos.machinery.config.generate import GenerateOptions, generate
from talos.provision.sandbox import launch

pytestmark = pytest.mark.requires("root", "unshare", "nsenter")


def _talosctl_in_node(pid: int, env: dict[str, str], *args: str
                      ) -> subprocess.CompletedProcess[str]:
    """talosctl from the host's files, in the node's network namespace (its 127.0.0.1)."""
    talosctl = shutil.which("talosctl")
    assert talosctl is not None, "talosctl is not installed (pip install -e .)"
    return subprocess.run(["nsenter", "-t", str(pid), "--net", talosctl, *args],
                          capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL, check=False)


def test_apply_config_insecure_reaches_the_node_on_50000_without_a_talosconfig(
        tmp_path: Path) -> None:
    gen = generate(GenerateOptions("maint", "https://10.99.0.2:6443"))
    cfg = tmp_path / "controlplane.yaml"
    cfg.write_text(gen.controlplane)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "TALOSCONFIG"}
    env["HOME"] = str(home)
    node = launch(tmp_path / "node")  # no config: maintenance mode on :50000
    try:
        node.wait_socket()
        while True:  # the maintenance server comes up after the initialize sequence
            r = _talosctl_in_node(node.pid, env, "apply-config", "--insecure", "-n",
                                  "127.0.0.1", "-f", str(cfg), "--dry-run")
            if "connection refused" not in r.stderr:
                break
            time.sleep(0.2)
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr
        r = _talosctl_in_node(node.pid, env, "apply-config", "--insecure", "-n", "127.0.0.1",
                              "-f", str(cfg))
        assert r.returncode == 0, r.stderr
        assert "leaves maintenance mode" in r.stdout, r.stdout
        assert not (home / ".talos").exists()
        while not (tmp_path / "node" / "state" / "config.yaml").exists():
            time.sleep(0.05)
        assert (tmp_path / "node" / "state" / "config.yaml").read_text() == gen.controlplane
    finally:
        node.destroy()
