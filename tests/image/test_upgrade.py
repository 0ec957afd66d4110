"""Upgrades and rollback of sandbox nodes booted from the image (issue 18), as a user runs
them: two builds of this tree with different version tags, the second (and a deliberately
broken third) pushed to the cluster's registry as installer images with the imager's push,
then `talosctl upgrade --image`, `talosctl rollback`, and a trial boot that never gets
healthy falling back by itself."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from talos.imager import build as imager_build
from talos.imager import squashfs
from talos.machinery import bootslots
from talos.machinery.version import TAG
from talos.provision import network, registry
from talos.provision.destroy import destroy_cluster, node_processes
from talos.provision.state import ClusterRecord, NodeRecord
from tests import reservations
from tests.cluster_under_test import ClusterUnderTest
from tests.leftovers import leftovers, snapshot
from tests.vm.conftest import IMAGE_TOOLS

#: two image builds (~45 s each when idle), a cluster, an upgrade and a rollback: more than
#: the suite's default 300 s under load
pytestmark = [pytest.mark.image, pytest.mark.root, pytest.mark.timeout(2400),
              pytest.mark.requires(*IMAGE_TOOLS, "unshare", "setpriv", "mount", "ip",
                                   "docker-registry", "ctr", "unsquashfs")]

OLD_TAG = f"{TAG}-upg1"
NEW_TAG = f"{TAG}-upg2"
BROKEN_TAG = f"{TAG}-broken"
#: bound on waiting for a node (not a timing requirement)
BOUND = 300.0


@dataclass
class UpgradeCluster(ClusterUnderTest):
    TALOSCTL_TIMEOUT = 900.0

    @property
    def gateway(self) -> str:
        return str(next(ipaddress.IPv4Network(self.cidr).hosts()))

    def create(self, image: str, workers: int) -> list[NodeRecord]:
        created = self.talosctl("cluster", "create", "--name", self.name, "--cidr", self.cidr,
                                "--controlplanes", "1", "--workers", str(workers),
                                "--image", image, "--state", str(self.state),
                                "--skip-kubeconfig")
        assert created.returncode == 0, created.stdout + created.stderr
        return list(ClusterRecord.load(self.directory).nodes)

    def push(self, tag: str, layout: str | None = None) -> str:
        """The installer of the build tagged `tag` pushed with `imager installer --push`
        (from the build cache), or the layout tarball `layout` pushed with the same
        client; the reference."""
        from talos.imager.push import push_layout
        ref = f"{registry.address(self.gateway)}/siderolabs/installer:{tag}"
        assert registry.wait_ready(self.gateway, timeout=30)
        if layout is not None:
            push_layout(layout, ref, plain_http=True)
            return ref
        pushed = subprocess.run([sys.executable, "-m", "talos", "imager", "installer",
                                 "--tag", tag, "--plain-http", "--push", ref],
                                capture_output=True, text=True, check=False, timeout=900,
                                stdin=subprocess.DEVNULL)
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
        return ref

    def version(self, address: str) -> str:
        res = self.talosctl("-n", address, "version", timeout=60)
        if res.returncode != 0:
            return ""
        server = res.stdout.split("Server:", 1)[-1]
        return next((line.split(":", 1)[1].strip() for line in server.splitlines()
                     if line.strip().startswith("Tag:")), "")

    def wait_version(self, node: NodeRecord, tag: str) -> None:
        deadline = time.monotonic() + BOUND
        seen = ""
        while time.monotonic() < deadline:
            seen = self.version(node.address)
            if seen == tag:
                return
            time.sleep(1)
        pytest.fail(f"{node.name} did not answer on {tag} (last: {seen or 'no answer'})\n"
                    + Path(node.log_path).read_text(errors="replace")[-4000:])

    def leftovers(self, nodes: list[str]) -> list[str]:
        left = [f"process {p.pid}" for p in node_processes(str(self.directory))]
        names = {network.bridge_name(self.name),
                 *(network.host_veth_name(self.name, n) for n in nodes)}
        left += [f"link {n}" for n in sorted(names) if network.link_exists(n)]
        cidr = ipaddress.IPv4Network(self.cidr)
        left += [f"route/address {o.describe()}" for o in network.host_ipv4_networks()
                 if o.network.overlaps(cidr)]
        if self.directory.exists():
            left.append(f"directory {self.directory}")
        return left


def _node_names(name: str) -> list[str]:
    return [f"{name}-controlplane-1", f"{name}-worker-1"]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[UpgradeCluster]:
    c = UpgradeCluster(name=reservations.cluster_name("upg"),
                       cidr=reservations.free_cidr("10.213"), state=tmp_path / "clusters",
                       talosconfig=tmp_path / "talosconfig")
    names = _node_names(c.name)
    before = snapshot(tmp_path, link_names={network.bridge_name(c.name),
                                            *(network.host_veth_name(c.name, n)
                                              for n in names)})
    yield c
    destroy_cluster(c.state, c.name, timeout=10)
    deadline = time.monotonic() + 10
    left = c.leftovers(names)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = c.leftovers(names)
    left += leftovers(before)
    assert not left, f"the test left behind: {left}"


@pytest.fixture(scope="module")
def old_rootfs(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The root squashfs of the build tagged OLD_TAG, copied out of the build cache (other
    builds may prune the cache entry meanwhile)."""
    built = imager_build.build(tag=OLD_TAG)
    out = tmp_path_factory.mktemp("old-image") / "rootfs.sqsh"
    shutil.copyfile(os.path.join(built.directory, "rootfs-amd64.sqsh"), out)
    return str(out)


@pytest.fixture(scope="module")
def new_build() -> None:
    """The build tagged NEW_TAG in the cache (`imager installer --push` takes it there)."""
    imager_build.build(tag=NEW_TAG)


def _settled(node: NodeRecord, slot: str) -> bootslots.BootRecord:
    """The node's boot record once `slot` is the default and marked good."""
    deadline = time.monotonic() + BOUND
    rec = bootslots.load(node.boot_dir)
    while time.monotonic() < deadline and (rec.default != slot or rec.on_trial):
        time.sleep(0.5)
        rec = bootslots.load(node.boot_dir)
    return rec


def test_upgrade_to_a_new_tag_then_rollback_brings_the_old_one_back(
        cluster: UpgradeCluster, old_rootfs: str, new_build: None) -> None:
    c = cluster
    nodes = c.create(old_rootfs, workers=1)
    cp, worker = nodes
    addresses = ",".join(n.address for n in nodes)
    for n in nodes:
        c.wait_version(n, OLD_TAG)
    c.push(OLD_TAG)
    ref = c.push(NEW_TAG)

    # the control plane as a plain upgrade, the worker staged: both reboot into NEW_TAG
    # (upstream's StageUpgrade sequence reboots too) and talosctl waits for both
    rows: list[list[str]] = []
    for n, flags in ((cp, ()), (worker, ("--stage",))):
        up = c.talosctl("-n", n.address, "upgrade", "--image", ref, *flags)
        assert up.returncode == 0, up.stdout + up.stderr
        rows += [line.split() for line in up.stdout.splitlines()]
    assert ["NODE", "FROM", "TO"] in rows, rows
    for n in nodes:
        assert [n.address, OLD_TAG, NEW_TAG] in rows, rows
        assert c.version(n.address) == NEW_TAG
        rec = _settled(n, "B")
        assert (rec.default, rec.on_trial, rec.image("B").tag) == ("B", False, NEW_TAG)
        assert rec.fallback == "A"
    etcd = c.talosctl("-n", cp.address, "etcd", "status")
    assert etcd.returncode == 0, etcd.stdout + etcd.stderr
    assert cp.address in etcd.stdout

    back = c.talosctl("-n", addresses, "rollback")
    assert back.returncode == 0, back.stdout + back.stderr
    for n in nodes:
        c.wait_version(n, OLD_TAG)
        assert bootslots.load(n.boot_dir).default == "A"
    etcd = c.talosctl("-n", cp.address, "etcd", "status")
    assert etcd.returncode == 0, etcd.stdout + etcd.stderr


def _broken_layout(src_rootfs: str, work: Path) -> str:
    """An installer image of `src` whose machined exits 3 at once: the image's
    `python -m talos` entry point replaced (its compiled copy removed)."""
    from talos.imager import oci
    tree = work / "tree"
    subprocess.run(["unsquashfs", "-q", "-no-progress", "-d", str(tree),
                    src_rootfs],
                   check=True, capture_output=True)
    pkg = tree / "usr/lib/python3/dist-packages/talos"
    (pkg / "__main__.py").write_text("import sys\nsys.exit(3)\n")
    for pyc in (pkg / "__pycache__").glob("__main__.*"):
        pyc.unlink()
    (pkg / "machinery" / "build-tag").write_text(f"{BROKEN_TAG}\n")
    rootfs = work / "rootfs.sqsh"
    squashfs.make(str(tree), str(rootfs), imager_build.epoch())
    shutil.rmtree(tree)
    out = work / "installer-broken.tar"
    oci.make(str(out), {"rootfs.sqsh": str(rootfs)},
             f"ghcr.io/siderolabs/installer:{BROKEN_TAG}", BROKEN_TAG, imager_build.epoch())
    return str(out)


def test_a_build_that_never_gets_healthy_falls_back_by_itself(
        cluster: UpgradeCluster, old_rootfs: str, tmp_path: Path) -> None:
    c = cluster
    (node,) = c.create(old_rootfs, workers=0)
    c.wait_version(node, OLD_TAG)
    ref = c.push(BROKEN_TAG, _broken_layout(old_rootfs, tmp_path))

    # a reference the registry does not know fails before anything on the node changes
    record = Path(node.boot_dir, bootslots.RECORD_FILE).read_bytes()
    missing = ref.rsplit(":", 1)[0] + ":no-such-tag"
    bad = c.talosctl("-n", node.address, "upgrade", "--image", missing, "--wait=false")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"pull {missing}" in bad.stderr and "not found" in bad.stderr, bad.stderr
    assert Path(node.boot_dir, bootslots.RECORD_FILE).read_bytes() == record
    assert not Path(bootslots.rootfs_path(node.boot_dir, "B")).exists()

    up = c.talosctl("-n", node.address, "upgrade", "--image", ref, "--wait=false")
    assert up.returncode == 0, up.stdout + up.stderr
    assert up.stdout.split("\n")[0].split() == ["NODE", "ACK", "STARTED"]
    # the trial boot of slot B crashes; the firmware's next selection falls back to A
    deadline = time.monotonic() + BOUND
    rec = bootslots.load(node.boot_dir)
    while time.monotonic() < deadline and not rec.last_selection:
        time.sleep(0.5)
        rec = bootslots.load(node.boot_dir)
    assert "falling back to slot A" in rec.last_selection, rec
    c.wait_version(node, OLD_TAG)
    rec = bootslots.load(node.boot_dir)
    assert (rec.default, rec.on_trial, rec.image("B").tag) == ("A", False, BROKEN_TAG)
    logs = c.talosctl("-n", node.address, "logs", "machined")
    assert logs.returncode == 0, logs.stderr
    assert f"did not reach a healthy running node: falling back to slot A ({OLD_TAG})" \
        in logs.stdout, logs.stdout[-3000:]
