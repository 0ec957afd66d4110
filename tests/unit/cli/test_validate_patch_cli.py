"""`talosctl validate` and `talosctl machineconfig patch` as a user runs them."""

from __future__ import annotations

from pathlib import Path

from tests.unit.cli.conftest import Run

WORKER = """\
version: v1alpha1  # keep me
machine:
  type: worker
  ca:
    crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
  features:
    hostDNS:
      enabled: true
      forwardKubeDNSToHost: true
  install:
    disk: /dev/sda
cluster:
  controlPlane:
    endpoint: https://10.5.0.2:6443
"""


def test_validate_modes(talosctl: Run, tmp_path: Path) -> None:
    cfg = tmp_path / "worker.yaml"
    cfg.write_text(WORKER)
    ok = talosctl("validate", "--config", str(cfg), "--mode", "metal")
    assert ok.returncode == 0 and ok.stdout == f"{cfg} is valid for metal mode\n"
    cfg.write_text(WORKER.replace("  install:\n    disk: /dev/sda\n", ""))
    bad = talosctl("validate", "-c", str(cfg), "-m", "metal")
    assert bad.returncode != 0
    assert 'machine.install: install instructions are required in "metal" mode' in bad.stderr
    assert talosctl("validate", "-c", str(cfg), "-m", "container").returncode == 0
    wrong = talosctl("validate", "-c", str(cfg), "-m", "vm")
    assert wrong.returncode != 0 and "vm" in wrong.stderr


def test_validate_strict_and_errors(talosctl: Run, tmp_path: Path) -> None:
    cfg = tmp_path / "join.yaml"
    cfg.write_text(WORKER.replace("type: worker", "type: join"))
    lax = talosctl("validate", "-c", str(cfg), "-m", "metal")
    assert lax.returncode == 0
    assert 'use "worker" instead of "join"' in lax.stderr
    strict = talosctl("validate", "-c", str(cfg), "-m", "metal", "--strict")
    assert strict.returncode != 0 and "warning: use" in strict.stderr
    cfg.write_text(WORKER.replace("  type: worker", "  typ: worker"))
    typo = talosctl("validate", "-c", str(cfg), "-m", "cloud")
    assert typo.returncode != 0
    assert 'machine.typ: unknown field "typ" (did you mean "type"?)' in typo.stderr
    missing = talosctl("validate", "-c", str(tmp_path / "nope.yaml"), "-m", "cloud")
    assert missing.returncode != 0 and "No such file" in missing.stderr


def test_machineconfig_patch(talosctl: Run, tmp_path: Path) -> None:
    cfg = tmp_path / "worker.yaml"
    cfg.write_text(WORKER)
    patch = tmp_path / "p.yaml"
    patch.write_text("machine:\n  network:\n    hostname: worker1\n")
    out = tmp_path / "worker1.yaml"
    res = talosctl("machineconfig", "patch", str(cfg), "--patch", f"@{patch}",
                   "-p", '[{"op": "add", "path": "/machine/certSANs", "value": ["10.0.0.10"]}]',
                   "-o", str(out))
    assert res.returncode == 0, res.stderr
    text = out.read_text()
    assert "# keep me" in text and "hostname: worker1" in text and "- 10.0.0.10" in text
    assert out.stat().st_mode & 0o077 == 0
    stdout = talosctl("machineconfig", "patch", str(cfg), "-p", f"@{patch}")
    assert stdout.returncode == 0 and "hostname: worker1" in stdout.stdout
    bad = talosctl("machineconfig", "patch", str(cfg), "-p",
                   '[{"op": "replace", "path": "/machine/nothere", "value": 1}]')
    assert bad.returncode != 0 and "inline patch" in bad.stderr and "/machine/nothere" in \
        bad.stderr
    gone = talosctl("machineconfig", "patch", str(cfg), "-p", f"@{tmp_path / 'missing'}")
    assert gone.returncode != 0 and "No such file" in gone.stderr
