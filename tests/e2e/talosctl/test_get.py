"""`talosctl get` through apid: node targeting (-n, one call per node, NODE column), watch
over several nodes, per-node errors, and --insecure against a node in maintenance mode."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.e2e.talosctl.conftest import HOSTS, TALOSCTL, E2ECluster, stop_process
from tests.e2e.talosctl.test_maintenance import maintenance_node  # noqa: F401 (fixture)

TWO = ",".join(HOSTS[:2])


def rows(out: str) -> list[list[str]]:
    return [ln.split() for ln in out.splitlines()[1:] if ln.strip()]


def test_get_lists_each_node_with_its_node_column(e2e: E2ECluster) -> None:
    r = e2e.run("-n", TWO, "get", "hostnamestatus")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split()[:5] == ["NODE", "NAMESPACE", "TYPE", "ID",
                                                    "VERSION"]
    got = {(row[0], row[-1]) for row in rows(r.stdout)}
    assert got == {(HOSTS[0], e2e.nodes[HOSTS[0]].hostname),
                   (HOSTS[1], e2e.nodes[HOSTS[1]].hostname)}

    r = e2e.run("-n", HOSTS[1], "get", "hostnamestatus", "hostname", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert f'"node": "{HOSTS[1]}"' in r.stdout


def test_get_reports_the_failing_node_and_still_shows_the_others(e2e: E2ECluster) -> None:
    r = e2e.run("-n", f"{HOSTS[0]},127.0.0.99", "get", "hostnamestatus")
    assert r.returncode == 1
    assert [row[0] for row in rows(r.stdout)] == [HOSTS[0]]
    assert "127.0.0.99: rpc error: code = Unavailable" in r.stderr, r.stderr


def test_watch_follows_several_nodes(e2e: E2ECluster) -> None:
    assert TALOSCTL is not None
    proc = subprocess.Popen([TALOSCTL, "-e", e2e.endpoint(), "-n", TWO, "get", "hostnamestatus",
                             "-w"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=e2e.env(), cwd=e2e.tmp)
    assert proc.stdout is not None
    try:
        seen: set[str] = set()
        header = proc.stdout.readline().decode()
        assert header.split()[:2] == ["*", "NODE"]
        while seen != set(HOSTS[:2]):
            line = proc.stdout.readline().decode()
            assert line, proc.stderr.read().decode() if proc.stderr else ""
            assert line.split()[0] == "+"
            seen.add(line.split()[1])
    finally:
        stop_process(proc)
        proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()


def test_get_insecure_reads_a_maintenance_node(e2e: E2ECluster, maintenance_node: str,  # noqa: F811
                                               tmp_path: Path) -> None:
    r = e2e.run("-e", maintenance_node, "--insecure", "get", "rd", endpoint=False)
    assert r.returncode == 0, r.stderr
    assert "ResourceDefinition" in r.stdout
    r = e2e.run("-e", maintenance_node, "--insecure", "get", "services", endpoint=False)
    assert r.returncode == 1
    assert "maintenance mode" in r.stderr


def test_get_jsonpath_prints_the_chosen_fields(e2e: E2ECluster) -> None:
    r = e2e.run("-n", TWO, "get", "hostnamestatus", "-o",
                "jsonpath={.node} {.spec.hostname}")
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == sorted(
        f"{h} {e2e.nodes[h].hostname}" for h in HOSTS[:2])
    r = e2e.run("-n", HOSTS[0], "get", "hostnamestatus", "-o", "jsonpath")
    assert r.returncode == 2
    assert "jsonpath needs a template" in r.stderr
    r = e2e.run("-n", HOSTS[0], "get", "hostnamestatus", "-o", "jsonpath={range .x}")
    assert r.returncode == 2
    assert "range/end blocks are not supported" in r.stderr
