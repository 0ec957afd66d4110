"""etcd in a local cluster of three sandboxed control planes (machined as PID 1 of its own
namespaces), driven only through talosctl: members agree everywhere, a SIGKILLed etcd comes
back, a snapshot is taken, two nodes are lost and one command recovers the cluster."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from talos.provision import network
from talos.provision.destroy import destroy_cluster
from tests import reservations
from tests.e2e.cluster.conftest import Cluster, free_cidr, node_names
from tests.leftovers import leftovers, snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.root,
              pytest.mark.requires("unshare", "nsenter", "etcd", "etcdctl")]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(name=reservations.cluster_name("etcd"), cidr=free_cidr(),
                state=tmp_path / "clusters", talosconfig=tmp_path / "talosconfig")
    before = snapshot(tmp_path)
    try:
        yield c
    finally:
        destroy_cluster(c.state, c.name, timeout=10)
        links = {network.bridge_name(c.name)}
        links |= {network.host_veth_name(c.name, n) for n in node_names(c)}
        left = c.leftovers() + leftovers(replace(before, link_names=frozenset(links)))
        assert not left, f"cluster {c.name} left behind: {left}"


def poll(check: Callable[[], bool]) -> None:
    """Another process's state: poll it (the 300 s test timeout bounds it)."""
    while not check():
        time.sleep(0.2)


def members_on(c: Cluster, node: str) -> list[str]:
    res = c.talosctl("-n", node, "etcd", "members")
    assert res.returncode == 0, res.stderr
    return sorted(line.split()[2] for line in res.stdout.splitlines()[1:])


def test_three_sandboxed_control_planes_recover_from_a_snapshot(cluster: Cluster,
                                                               tmp_path: Path) -> None:
    res = cluster.create("--controlplanes", "3", "--workers", "0", "--wait-timeout", "120s")
    assert res.returncode == 0, res.stdout + res.stderr
    cps = cluster.record().controlplanes
    names = sorted(n.name for n in cps)
    for n in cps:
        assert members_on(cluster, n.address) == names

    # SIGKILL of etcd inside one sandbox: the node's machined restarts it
    victim = cps[1]
    [etcd] = [p for p in psutil.Process(victim.pid).children(recursive=True)
              if p.name() == "etcd"]
    etcd.send_signal(signal.SIGKILL)

    def restarted() -> bool:
        kids = [p for p in psutil.Process(victim.pid).children(recursive=True)
                if p.name() == "etcd" and p.pid != etcd.pid]
        res = cluster.talosctl("-n", victim.address, "etcd", "status")
        return bool(kids) and res.returncode == 0 and "no leader" not in res.stdout
    poll(restarted)

    snap = tmp_path / "db.snapshot"
    res = cluster.talosctl("-n", cps[0].address, "etcd", "snapshot", str(snap))
    assert res.returncode == 0 and snap.stat().st_size > 0, res.stderr

    # two of three control planes are lost: no quorum; one command recovers
    for n in cps[1:]:
        os.kill(n.pid, signal.SIGKILL)
    res = cluster.talosctl("-n", cps[0].address, "bootstrap", "--recover-from", str(snap))
    assert res.returncode == 0, res.stderr

    def recovered() -> bool:
        res = cluster.talosctl("-n", cps[0].address, "etcd", "status")
        return res.returncode == 0 and "no leader" not in res.stdout \
            and members_on(cluster, cps[0].address) == [cps[0].name]
    poll(recovered)
