"""talosctl reset against a real node (runs after the other e2e files: it wipes a node,
which is then restarted from an empty root)."""

from __future__ import annotations

import re

from tests.e2e.talosctl.conftest import HOSTS, E2ECluster


def test_reset_bad_labels(e2e: E2ECluster) -> None:
    r = e2e.run("reset", "--system-labels-to-wipe", "a/b")
    assert r.returncode == 2
    assert "'a/b': expected a partition label such as STATE or EPHEMERAL" in r.stderr


def test_reset_with_reboot_shows_progress_and_result(e2e: E2ECluster) -> None:
    try:
        r = e2e.run("-n", HOSTS[2], "reset", "--reboot", "--graceful=false")
        assert r.returncode == 0, r.stderr
        # (the wipe phase's own events may be cut off with the node's API: not required)
        for line in ("sequence reset: start",
                     "API is down: waiting for the node to come back",
                     "sequence initialize: stop"):
            assert f"{HOSTS[2]}: {line}" in r.stderr, r.stderr
        assert r.stdout.splitlines()[1].startswith(HOSTS[2])
        # the default wipe mode (all) wipes both system labels; STATE gone: maintenance mode
        assert re.match(r"reset( \(wiped STATE, EPHEMERAL\))?, back in maintenance mode",
                        r.stdout.splitlines()[1].split(None, 1)[1]), r.stdout
    finally:
        e2e.fresh_node(HOSTS[2])
