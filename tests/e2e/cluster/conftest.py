"""Local clusters made by the real `talosctl cluster create`, run as a subprocess.

Every cluster gets its own name, a free 10.213.x.0/24 (checked against the host's routes and
addresses, and reserved against other test runs: tests/reservations.py) and a temporary
state directory and talosconfig; a finalizer always destroys it and then checks that
nothing is left: no process of the cluster, no network namespace of its nodes, no link, no
route for its CIDR, no mount under its directory.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from talos.provision import network
from talos.provision.destroy import destroy_cluster, mounts_under, node_processes
from talos.provision.state import ClusterRecord
from tests import reservations
from tests.leftovers import leftovers, snapshot
from tests.prerequisites import require

pytestmark = [pytest.mark.e2e, pytest.mark.root]


def talosctl(*args: str, env: dict[str, str] | None = None, timeout: float = 240
             ) -> subprocess.CompletedProcess[str]:
    """As a script runs it: stdin is /dev/null (nothing may wait for an answer), and no
    traceback ever reaches the user."""
    res = subprocess.run([sys.executable, "-m", "talos", "talosctl", *args],
                         capture_output=True, text=True, env=env, timeout=timeout,
                         check=False, stdin=subprocess.DEVNULL)
    assert "Traceback" not in res.stderr, res.stderr
    return res


def free_cidr() -> str:
    """A 10.213.x.0/24 free on the host and reserved against other test runs."""
    return reservations.free_cidr("10.213")


@dataclass
class Cluster:
    name: str
    cidr: str
    state: Path
    talosconfig: Path
    netns: set[str] = field(default_factory=set)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "TALOSCONFIG": str(self.talosconfig)}

    @property
    def directory(self) -> Path:
        return self.state.resolve() / self.name

    def record(self) -> ClusterRecord:
        return ClusterRecord.load(self.directory)

    def talosctl(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return talosctl(*args, env=self.env, timeout=timeout)

    def create(self, *extra: str) -> subprocess.CompletedProcess[str]:
        res = self.talosctl("cluster", "create", "--name", self.name, "--cidr", self.cidr,
                            "--state", str(self.state), "--skip-kubeconfig", *extra)
        if res.returncode == 0:
            self.remember_namespaces()
        return res

    def remember_namespaces(self) -> None:
        for n in self.record().nodes:
            try:
                self.netns.add(os.readlink(f"/proc/{n.pid}/ns/net"))
            except OSError:
                pass

    def leftovers(self) -> list[str]:
        """Everything of this cluster still on the host, described."""
        left: list[str] = []
        d = str(self.directory)
        left += [f"process {p.pid}" for p in node_processes(d)]
        if self.netns:
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        ns = os.readlink(f"/proc/{entry}/ns/net")
                    except OSError:
                        continue
                    if ns in self.netns:
                        left.append(f"network namespace {ns} (held by pid {entry})")
        bridge = network.bridge_name(self.name)
        if network.link_exists(bridge):
            left.append(f"link {bridge}")
        left += [f"link {name}" for name in network.links_named(network.VETH_PREFIX)
                 if name in {network.host_veth_name(self.name, n)
                             for n in node_names(self)}]
        cidr = ipaddress.IPv4Network(self.cidr)
        left += [f"route/address {o.describe()}" for o in network.host_ipv4_networks()
                 if o.network.overlaps(cidr)]
        left += [f"mount {m}" for m in mounts_under(d)]
        if self.directory.exists():
            left.append(f"directory {d}")
        return left


def node_names(c: Cluster) -> list[str]:
    return [f"{c.name}-controlplane-{i}" for i in range(1, 6)] + \
        [f"{c.name}-worker-{i}" for i in range(1, 6)]


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[Callable[[str], Cluster]]:
    require("root", "unshare", "etcd")  # namespaces, bridges, mounts; control planes
    made: list[Cluster] = []

    def make(base: str) -> Cluster:
        """A cluster named `base` (or `base`-2, ... when another test run holds `base`)."""
        c = Cluster(name=reservations.cluster_name(base), cidr=free_cidr(),
                    state=tmp_path / "clusters", talosconfig=tmp_path / "talosconfig")
        made.append(c)
        return c

    # anything else of the test (a talosctl still running, an orphan naming tmp_path in its
    # environment or command line, a mount under it) counts too
    before = snapshot(tmp_path)
    yield make
    left: list[str] = []
    for c in made:
        destroy_cluster(c.state, c.name, timeout=10)
        left += [f"cluster {c.name}: {what}" for what in c.leftovers()]
    links = {network.bridge_name(c.name) for c in made}
    links |= {network.host_veth_name(c.name, n) for c in made for n in node_names(c)}
    left += leftovers(replace(before, link_names=frozenset(links)))
    assert not left, f"the test left behind: {left}"
