"""reboot, shutdown and reset options against real nodes, judged by what the node did: what
survived in its STATE and EPHEMERAL directories, the phases it ran, what it logged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.talosctl.conftest import HOSTS, E2ECluster, E2ENode

UNREACHABLE = "127.0.0.9"  # a loopback address no node listens on


def _state_config(node: E2ENode) -> Path:
    return node.root / "system/state/config.yaml"


def _marker(node: E2ENode) -> Path:
    """A file in the node's EPHEMERAL (/var)."""
    marker = node.root / "var/marker"
    marker.write_text("kept?")
    return marker


def _result(stdout: str, host: str) -> str:
    """The RESULT cell of `host` in the result table."""
    (line,) = [ln for ln in stdout.splitlines() if ln.split()[:1] == [host]]
    return line.split(None, 1)[1]


# -- reset wipe modes -----------------------------------------------------------------------

def test_reset_user_disks_mode_keeps_state_and_ephemeral(e2e: E2ECluster) -> None:
    host = HOSTS[2]
    node = e2e.nodes[host]
    config = _state_config(node)
    before = config.read_bytes()
    marker = _marker(node)
    try:
        r = e2e.run("-n", host, "reset", "--wipe-mode", "user-disks", "--reboot",
                    "--graceful=false", "--timeout", "5m")
        assert r.returncode == 0, r.stderr
        assert f"{host}: phase wipe: start" not in r.stderr
        # what was wiped is said only when talosctl saw the wipe phases' events (the stream
        # may end with the node's restart first); when said, it must be right
        assert re.match(r"reset( \(nothing wiped\))?, back up with its config",
                        _result(r.stdout, host)), r.stdout
        # the node kept its config and identity, and the data in EPHEMERAL
        assert config.read_bytes() == before
        assert marker.read_text() == "kept?"
        v = e2e.run("-n", host, "get", "machinestatus", "-o", "yaml")
        assert v.returncode == 0, v.stderr
        assert "stage: running" in v.stdout
        assert "wipe mode USER_DISKS: no user disks to wipe" in node.log.read_text()
    finally:
        marker.unlink(missing_ok=True)
        e2e.restart_node(host)


def test_reset_system_disk_mode_wipes_state_and_ephemeral(e2e: E2ECluster) -> None:
    host = HOSTS[2]
    node = e2e.nodes[host]
    marker = _marker(node)
    try:
        r = e2e.run("-n", host, "reset", "--wipe-mode", "system-disk", "--reboot",
                    "--graceful=false")
        assert r.returncode == 0, r.stderr
        assert re.match(r"reset( \(wiped STATE, EPHEMERAL\))?, back in maintenance mode",
                        _result(r.stdout, host)), r.stdout
        assert not _state_config(node).exists()
        assert not marker.exists()
    finally:
        e2e.fresh_node(host)


def test_reset_system_labels_wipe_only_the_labels_named(e2e: E2ECluster) -> None:
    host = HOSTS[2]
    node = e2e.nodes[host]
    before = _state_config(node).read_bytes()
    marker = _marker(node)
    try:
        r = e2e.run("-n", host, "reset", "--system-labels-to-wipe", "EPHEMERAL", "--reboot",
                    "--graceful=false")
        assert r.returncode == 0, r.stderr
        assert re.match(r"reset( \(wiped EPHEMERAL\))?, back up with its config",
                        _result(r.stdout, host)), r.stdout
        assert _state_config(node).read_bytes() == before
        assert not marker.exists()
    finally:
        marker.unlink(missing_ok=True)
        e2e.restart_node(host)


@pytest.mark.parametrize(("args", "message"), [
    (("--wipe-mode", "user-disks", "--user-disks-to-wipe", "/dev/sdb"),
     "this node has no user disks (/dev/sdb cannot be wiped here)"),
    (("--wipe-mode", "system-disk", "--user-disks-to-wipe", "/dev/sdb"),
     "wipe mode SYSTEM_DISK doesn't support user disks to wipe"),
    (("--wipe-mode", "user-disks", "--system-labels-to-wipe", "STATE"),
     "wipe mode USER_DISKS doesn't support system partitions to wipe"),
])
def test_reset_options_the_node_cannot_honour_are_refused_before_anything_stops(
        e2e: E2ECluster, args: tuple[str, ...], message: str) -> None:
    host = HOSTS[2]
    node = e2e.nodes[host]
    before = _state_config(node).read_bytes()
    r = e2e.run("-n", host, "reset", "--graceful=false", *args)
    assert r.returncode == 1, r.stderr
    assert message in r.stderr
    assert f"{host}: sequence reset: start" not in r.stderr
    assert node.machined is not None and node.machined.poll() is None
    assert _state_config(node).read_bytes() == before


# -- reboot and shutdown options ------------------------------------------------------------

def test_reboot_powercycle_is_a_full_restart_and_the_node_says_so(e2e: E2ECluster) -> None:
    host = HOSTS[1]
    node = e2e.nodes[host]
    r = e2e.run("-n", host, "reboot", "--mode", "powercycle", "--timeout", "5m")
    assert r.returncode == 0, r.stderr
    assert f"{host}: phase stopServices: start" in r.stderr
    assert _result(r.stdout, host).startswith("rebooted"), r.stdout
    assert "reboot mode POWERCYCLE: no kexec and no firmware here" in node.log.read_text()


def test_reboot_mode_the_node_does_not_serve_is_refused(e2e: E2ECluster) -> None:
    # FORCE (reboot without stopping anything) is not done here: refused, never ignored
    host = HOSTS[1]
    node = e2e.nodes[host]
    r = e2e.run("-n", host, "reboot", "--mode", "force")
    assert r.returncode == 1, r.stderr
    assert _result(r.stdout, host) == ("FAILED: mode: reboot mode FORCE is not supported by "
                                       "this node (expected DEFAULT or POWERCYCLE)")
    assert f"{host}: sequence reboot: start" not in r.stderr
    assert node.machined is not None and node.machined.poll() is None


@pytest.mark.parametrize("force", [False, True])
def test_shutdown_force_skips_the_drain_phase(e2e: E2ECluster, force: bool) -> None:
    host = HOSTS[2]
    node = e2e.nodes[host]
    assert node.machined is not None
    try:
        r = e2e.run("-n", host, "shutdown", *(("--force",) if force else ()))
        assert r.returncode == 0, r.stderr
        assert (f"{host}: phase drain: start" in r.stderr) is not force, r.stderr
        assert f"{host}: phase stopServices: start" in r.stderr
        assert _result(r.stdout, host) == "powered off"
    finally:
        node.machined.wait(timeout=300)
        e2e.restart_node(host)


# -- unreachable nodes and durations --------------------------------------------------------

@pytest.mark.parametrize("command", [("reboot",), ("shutdown",), ("reset", "--reboot")])
def test_an_unreachable_node_is_one_clear_error_line(e2e: E2ECluster,
                                                     command: tuple[str, ...]) -> None:
    r = e2e.run("-n", UNREACHABLE, *command)  # run() fails on any traceback
    assert r.returncode == 1, r.stderr
    assert "ExceptionGroup" not in r.stderr and "AioRpcError" not in r.stderr
    assert _result(r.stdout, UNREACHABLE).startswith(
        f"FAILED: node '{UNREACHABLE}' is unreachable: connection refused")
    assert r.stderr.startswith(f"Error: 1 of 1 node(s) failed: {UNREACHABLE}: "), r.stderr


def test_an_unreachable_endpoint_is_one_clear_error_line(e2e: E2ECluster) -> None:
    r = e2e.run("-e", f"{UNREACHABLE}:1", "-n", UNREACHABLE, "reboot", endpoint=False)
    assert r.returncode == 1, r.stderr
    assert r.stderr == (f"Error: {UNREACHABLE}:1: connection refused: is the node up and its "
                        "API listening there? (a wrong endpoint or port is the usual "
                        "cause)\n")


def test_reachable_nodes_go_ahead_when_another_is_unreachable(e2e: E2ECluster) -> None:
    host = HOSTS[1]
    r = e2e.run("-n", f"{host},{UNREACHABLE}", "reboot")
    assert r.returncode == 1, r.stderr
    assert _result(r.stdout, host).startswith("rebooted"), r.stdout
    assert _result(r.stdout, UNREACHABLE).startswith("FAILED: "), r.stdout


@pytest.mark.parametrize("command", ["reboot", "shutdown", "reset"])
def test_timeout_takes_go_durations(e2e: E2ECluster, command: str) -> None:
    r = e2e.run("-n", HOSTS[1], command, "--timeout", "soon")
    assert r.returncode == 2
    assert "Invalid value for --timeout: invalid duration 'soon' (expected e.g. 30s, 5m, " \
           "1h30m or 500ms)" in r.stderr
    # a valid one is accepted (aimed at an unreachable node: nothing is rebooted)
    r = e2e.run("-n", UNREACHABLE, command, "--timeout", "1h30m")
    assert r.returncode == 1
    assert "is unreachable" in r.stderr
