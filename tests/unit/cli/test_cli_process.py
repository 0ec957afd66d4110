"""The installed `talosctl` executable, end to end: exit codes, stdout/stderr, no traceback."""

from __future__ import annotations

from pathlib import Path

from talos.machinery.client.talosconfig import Talosconfig

from .conftest import Run


def test_gen_config_then_config_commands_as_a_user_runs_them(talosctl_process: Run,
                                                            tmp_path: Path) -> None:
    r = talosctl_process("gen", "config", "demo", "https://10.5.0.2:6443", "-o", "out")
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == ["generating PKI and tokens",
                                     "Created out/controlplane.yaml",
                                     "Created out/worker.yaml", "Created out/talosconfig"]
    tc = str(tmp_path / "out" / "talosconfig")
    r = talosctl_process("--talosconfig", tc, "config", "endpoint", "10.5.0.2")
    assert r.returncode == 0, r.stderr
    r = talosctl_process("config", "contexts", extra_env={"TALOSCONFIG": tc})
    assert r.stdout == ("CURRENT   NAME   ENDPOINTS   NODES\n"
                        "*         demo   10.5.0.2    \n")
    r = talosctl_process("validate", "--config", "out/controlplane.yaml", "--mode", "metal")
    assert r.returncode == 0, r.stderr
    assert Talosconfig.load(tc).get().endpoints == ("10.5.0.2",)


def test_errors_are_one_line_on_stderr_with_nonzero_exit(talosctl_process: Run,
                                                         tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").write_text("cluster: [\n")
    r = talosctl_process("gen", "config", "demo", "https://10.5.0.2:6443",
                         "--with-secrets", "secrets.yaml")
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.startswith("Error: failed to load secrets bundle: secrets.yaml: line 2")
    r = talosctl_process("gen", "secrets")
    assert r.returncode == 1
    assert r.stderr == "Error: file 'secrets.yaml' already exists, use --force to overwrite\n"
    r = talosctl_process("--talosconfig", "nope", "config", "context", "x")
    assert r.returncode == 1 and r.stderr == "Error: context 'x' is not defined\n"
