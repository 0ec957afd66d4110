"""`talosctl meta write|delete` and `talosctl get meta`: the keys written are MetaKey
resources (runtime namespace, id `0x0a`, a VALUE column, as upstream v1.13.9), a deleted
key is gone, and the keys in STATE are listed again after machined restarts."""

from __future__ import annotations

import pytest

from tests.e2e.talosctl.conftest import HOSTS, E2ECluster, stop_process

pytestmark = pytest.mark.e2e

NODE = HOSTS[2]


def _rows(out: str) -> dict[str, list[str]]:
    """id -> row of a `get meta` table (NODE NAMESPACE TYPE ID VERSION VALUE)."""
    return {row.split()[3]: row.split() for row in out.splitlines()[1:] if row.strip()}


def test_get_meta_lists_the_keys_written_and_forgets_a_deleted_one(e2e: E2ECluster) -> None:
    for key, value in (("0x0a", "hello world"), ("12", "second")):
        r = e2e.run("-n", NODE, "meta", "write", key, value)
        assert r.returncode == 0, r.stderr
    r = e2e.run("-n", NODE, "get", "meta")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split() == ["NODE", "NAMESPACE", "TYPE", "ID", "VERSION",
                                                "VALUE"]
    rows = _rows(r.stdout)
    assert rows["0x0a"][:4] == [NODE, "runtime", "MetaKey", "0x0a"]
    assert rows["0x0a"][5:] == ["hello", "world"] and rows["0x0c"][5:] == ["second"]

    r = e2e.run("-n", NODE, "get", "metakeys", "0x0a", "-o", "yaml")
    assert r.returncode == 0, r.stderr
    assert "type: MetaKeys.runtime.talos.dev" in r.stdout and "value: hello world" in r.stdout

    r = e2e.run("-n", NODE, "meta", "delete", "0x0a")
    assert r.returncode == 0, r.stderr
    r = e2e.run("-n", NODE, "get", "meta")
    assert r.returncode == 0, r.stderr
    assert set(_rows(r.stdout)) == {"0x0c"}

    # META is in STATE: a restarted machined publishes the keys again
    node = e2e.nodes[NODE]
    assert node.machined is not None
    stop_process(node.machined)
    e2e.restart_node(NODE)
    r = e2e.run("-n", NODE, "get", "meta", "0x0c")
    assert r.returncode == 0, r.stderr
    assert _rows(r.stdout)["0x0c"][5:] == ["second"]
    r = e2e.run("-n", NODE, "meta", "delete", "12")
    assert r.returncode == 0, r.stderr
