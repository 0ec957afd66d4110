"""`talosctl reset --reboot` against a real sandboxed node: apid is a service of the node,
so once STATE is wiped nothing answers with the cluster's certificates any more and the node
is only found through its insecure maintenance API."""

from __future__ import annotations

import re

import pytest

from tests.e2e.cluster.test_cluster import MakeCluster, _ok

pytestmark = [pytest.mark.e2e, pytest.mark.root]


def _result(stdout: str, host: str) -> str:
    (line,) = [ln for ln in stdout.splitlines() if ln.split()[:1] == [host]]
    return line.split(None, 1)[1]


def test_reset_reboot_ends_when_the_node_is_back_and_says_in_which_state(
        make_cluster: MakeCluster) -> None:
    c = make_cluster("e2e-reset")
    _ok(c.create("--workers", "0", "--wait-timeout", "120s"))
    cp = f"{c.cidr.rsplit('.', 1)[0]}.2"
    node_dir = c.directory / c.record().nodes[0].name
    config = node_dir / "state" / "config.yaml"
    marker = node_dir / "ephemeral" / "marker"
    marker.write_text("kept?")

    # user-disks: nothing to wipe here; the node reboots with its config and identity
    r = c.talosctl("-n", cp, "reset", "--wipe-mode", "user-disks", "--reboot",
                   "--graceful=false", "--timeout", "2m")
    _ok(r)
    # (apid is one of the services a reset stops: talosctl usually cannot see the wipe
    # phase here, and then does not claim anything about it)
    assert re.match(r"reset( \(nothing wiped\))?, back up with its config",
                    _result(r.stdout, cp)), r.stdout
    assert config.exists() and marker.read_text() == "kept?"

    # the default (all): STATE wiped, the node waits in maintenance mode; talosctl sees it
    # there at once instead of waiting for its timeout
    r = c.talosctl("-n", cp, "reset", "--reboot", "--graceful=false", "--timeout", "2m")
    _ok(r)
    assert re.match(r"reset( \(wiped STATE, EPHEMERAL\))?, back in maintenance mode",
                    _result(r.stdout, cp)), r.stdout
    assert f"{cp}: back in maintenance mode (its insecure maintenance API answers)" \
        in r.stderr
    assert not config.exists() and not marker.exists()
