"""Changes through talosctl against real nodes: multi-node refusal, reboot/shutdown/reset
with live progress, apply-config (dry-run, unattended apply, reboot), patch and edit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from talos.machinery.client.talosconfig import Context, Talosconfig
from tests.e2e.talosctl.conftest import HOSTS, E2ECluster

NEW_CONFIG = """version: v1alpha1
machine:
  type: worker
{extras}  network:
    hostname: {hostname}
  sysctls:
    net.ipv4.ip_forward: "{value}"
cluster:
  clusterName: e2e
  controlPlane:
    endpoint: https://127.0.0.2:6443
"""


def _multi_context(e2e: E2ECluster, tmp_path: Path) -> dict[str, str]:
    """A talosconfig whose context lists two nodes by default."""
    path = tmp_path / "talosconfig-multi"
    ctx = Talosconfig.load(e2e.talosconfig).get()
    Talosconfig(context="multi", contexts={"multi": Context(
        endpoints=ctx.endpoints, nodes=HOSTS[1:], ca=ctx.ca, crt=ctx.crt, key=ctx.key)}
    ).save(path)
    return e2e.env(TALOSCONFIG=str(path))


def test_changes_to_several_nodes_need_them_on_the_command_line(e2e: E2ECluster,
                                                                tmp_path: Path) -> None:
    env = _multi_context(e2e, tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(NEW_CONFIG.format(hostname="x", value="1", extras=e2e.machine_extras()))
    for args in (("reboot",), ("shutdown",), ("reset",), ("apply-config", "-f", str(cfg)),
                 ("patch", "machineconfig", "--patch", "{}"), ("edit", "machineconfig"),
                 ("service", "containerd", "restart")):
        r = e2e.run(*args, env=env)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert "taken from the talosconfig context (127.0.0.3, 127.0.0.4): name the nodes " \
               "on the command line with -n/--nodes" in r.stderr, r.stderr
    # reading from the context's nodes is fine
    r = e2e.run("memory", env=env)
    assert r.returncode == 0, r.stderr
    assert [ln.split()[0] for ln in r.stdout.splitlines()[1:]] == list(HOSTS[1:])


def test_reboot_waits_and_reports_per_node(e2e: E2ECluster) -> None:
    r = e2e.run("-n", ",".join(HOSTS[1:]), "reboot")
    assert r.returncode == 0, r.stderr
    for host in HOSTS[1:]:
        assert f"{host}: sequence reboot: start" in r.stderr
        assert f"{host}: API is down: waiting for the node to come back" in r.stderr
        assert f"{host}: sequence boot: stop" in r.stderr
    rows = [ln.split()[:2] for ln in r.stdout.splitlines()]
    assert rows == [["NODE", "RESULT"], [HOSTS[1], "rebooted"], [HOSTS[2], "rebooted"]]
    r = e2e.run("-n", ",".join(HOSTS[1:]), "version", "--short")
    assert r.returncode == 0, r.stderr


def test_shutdown_then_node_is_unavailable(e2e: E2ECluster) -> None:
    try:
        r = e2e.run("-n", HOSTS[2], "shutdown", "--force")
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[1].split() == [HOSTS[2], "powered", "off"]
        r = e2e.run("-n", HOSTS[2], "services")
        assert r.returncode == 1
        assert f"Error: {HOSTS[2]}: machined" in r.stderr and "unavailable" in r.stderr
    finally:
        e2e.restart_node(HOSTS[2])


def _running_config(e2e: E2ECluster, host: str) -> str:
    r = e2e.run("-n", host, "get", "machineconfig", "-o", "yaml")
    assert r.returncode == 0, r.stderr
    return r.stdout


def _no_question(r: subprocess.CompletedProcess[str]) -> None:
    """Ran unattended: nothing was asked, nothing aborted for want of an answer."""
    assert "[y/N]" not in r.stderr and "Aborted" not in r.stderr, r.stderr
    assert "Apply this configuration" not in r.stderr, r.stderr


def test_apply_config_dry_run_then_unattended_apply_and_reboot(e2e: E2ECluster,
                                                               tmp_path: Path) -> None:
    cfg = tmp_path / "new.yaml"
    cfg.write_text(NEW_CONFIG.format(hostname="e2e-2", value="1", extras=e2e.machine_extras()))
    node = ("-n", HOSTS[1])
    r = e2e.run(*node, "apply-config", "-f", str(cfg), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "Dry run summary:" in r.stdout and '+    net.ipv4.ip_forward: "1"' in r.stdout
    assert 'net.ipv4.ip_forward: "1"' not in _running_config(e2e, HOSTS[1])
    # stdin is /dev/null (a script, CI): applied at once, as Talos does, never asked
    r = e2e.run(*node, "apply-config", "-f", str(cfg), "--mode", "no-reboot")
    assert r.returncode == 0, r.stderr
    _no_question(r)
    assert f"{HOSTS[1]}: Applied configuration without a reboot" in r.stdout
    assert 'net.ipv4.ip_forward: "1"' in _running_config(e2e, HOSTS[1])
    # a mode that reboots shows progress and the per-node result; --yes is still accepted
    cfg.write_text(NEW_CONFIG.format(hostname="e2e-2", value="0", extras=e2e.machine_extras()))
    r = e2e.run(*node, "apply-config", "-f", str(cfg), "--mode", "reboot", "--yes")
    assert r.returncode == 0, r.stderr
    assert f"{HOSTS[1]}: sequence boot: stop" in r.stderr
    assert r.stdout.splitlines()[-1].split()[:2] == [HOSTS[1], "rebooted"]


def test_apply_config_bad_input(e2e: E2ECluster, tmp_path: Path) -> None:
    r = e2e.run("-n", HOSTS[1], "apply-config", "-f", str(tmp_path / "missing.yaml"))
    assert r.returncode == 1
    assert "missing.yaml': No such file or directory" in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: v1alpha1\nmachine:\n  type: spaceship\n")
    r = e2e.run("-n", HOSTS[1], "apply-config", "-f", str(bad), "--yes")
    assert r.returncode == 1
    assert "machine.type" in r.stderr and "spaceship" in r.stderr
    r = e2e.run("-n", HOSTS[1], "apply-config", "-f", str(bad), "--mode", "sideways")
    assert r.returncode == 2
    assert "'sideways' is not one of 'auto', 'no-reboot', 'reboot', 'staged', 'try'" \
        in r.stderr


def test_patch_machineconfig(e2e: E2ECluster, tmp_path: Path) -> None:
    patch = '[{"op": "add", "path": "/machine/sysctls", "value": {"vm.swappiness": "7"}}]'
    r = e2e.run("-n", HOSTS[2], "patch", "machineconfig", "--patch", patch, "--mode",
                "no-reboot")  # stdin /dev/null: applied unattended
    assert r.returncode == 0, r.stderr
    _no_question(r)
    assert f"{HOSTS[2]}: Applied configuration without a reboot" in r.stdout
    assert "vm.swappiness: '7'" in _running_config(e2e, HOSTS[2])
    r = e2e.run("-n", HOSTS[2], "patch", "machineconfig", "--patch", patch, "--yes")
    assert r.returncode == 0, r.stderr
    assert "Apply was skipped: no changes detected." in r.stdout
    r = e2e.run("-n", HOSTS[2], "patch", "machineconfig", "--patch", "@/nonexistent.yaml")
    assert r.returncode == 1
    assert "reading patch @/nonexistent.yaml: No such file or directory" in r.stderr


EDITOR = """
import sys
path = sys.argv[1]
text = open(path).read()
log = open({log!r}, "a")
log.write("---\\n" + text)
if "The edited config was not applied" not in text:
    text = text.replace("type: worker", "type: spaceship")   # first try: invalid
else:
    body = [ln for ln in text.splitlines(True) if not ln.startswith("#")]
    text = "".join(body).replace("type: spaceship", "type: worker")
    text = text.replace("clusterName: e2e", "clusterName: e2e\\n  # edited")
open(path, "w").write(text)
"""


def test_edit_reopens_the_editor_with_errors_as_comments(e2e: E2ECluster,
                                                         tmp_path: Path) -> None:
    log = tmp_path / "editor.log"
    script = tmp_path / "editor.py"
    script.write_text(EDITOR.format(log=str(log)))
    env = e2e.env(EDITOR=f"{sys.executable} {script}")
    r = e2e.run("-n", HOSTS[2], "edit", "machineconfig", "--mode", "no-reboot",
                env=env)  # stdin /dev/null: applied unattended once the editor saved
    assert r.returncode == 0, r.stderr
    _no_question(r)
    assert f"{HOSTS[2]}: Applied configuration without a reboot" in r.stdout
    assert "# edited" in _running_config(e2e, HOSTS[2])
    sessions = log.read_text().split("---\n")[1:]
    assert len(sessions) == 2
    assert "# Please edit the machine config for node 127.0.0.3" not in sessions[0]
    assert f"# Please edit the machine config for node {HOSTS[2]}" in sessions[0]
    assert "# The edited config was not applied:" in sessions[1]
    assert "spaceship" in sessions[1]
    # the editor saving the file unchanged: nothing is sent
    keep = tmp_path / "keep.py"
    keep.write_text("pass\n")
    r = e2e.run("-n", HOSTS[2], "edit", "machineconfig",
                env=e2e.env(EDITOR=f"{sys.executable} {keep}"))
    assert r.returncode == 0, r.stderr
    assert "Apply was skipped: no changes detected." in r.stdout
