"""`talosctl cluster create --image`: sandbox nodes booted from the OS image's root squashfs
by a per-node firmware (talos.provision.firmware), as a user runs it.

The node's root is the image (its /etc/os-release, not the host's Debian); a reboot is a
new boot by the firmware (fresh namespaces, a new machined) with the same config; a killed
machined is seen by the firmware, which boots the node again; `cluster destroy` leaves no
process, mount, loop device, network namespace, link or file."""

from __future__ import annotations

import ipaddress
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from talos.imager import build as imager_build
from talos.machinery import bootslots
from talos.provision import network
from talos.provision.destroy import destroy_cluster, node_processes
from talos.provision.image import DEFAULT_REF
from talos.provision.sandbox import node_machined_pid
from talos.provision.state import ClusterRecord, NodeRecord
from tests import reservations
from tests.cluster_under_test import ClusterUnderTest
from tests.leftovers import leftovers, snapshot
from tests.vm.conftest import IMAGE_TOOLS

pytestmark = [pytest.mark.image, pytest.mark.root,
              pytest.mark.requires(*IMAGE_TOOLS, "unshare", "setpriv", "mount", "ip")]

#: bound on waiting for a node to answer again (not a timing requirement)
BACK_WITHIN = 180.0


@dataclass
class ImageCluster(ClusterUnderTest):
    def create(self, image: str) -> NodeRecord:
        created = self.talosctl("cluster", "create", "--name", self.name, "--cidr", self.cidr,
                                "--controlplanes", "1", "--workers", "0", "--image", image,
                                "--state", str(self.state), "--skip-kubeconfig")
        assert created.returncode == 0, created.stdout + created.stderr
        (node,) = ClusterRecord.load(self.directory).nodes
        return node

    def leftovers(self) -> list[str]:
        left = [f"process {p.pid}" for p in node_processes(str(self.directory))]
        names = {network.bridge_name(self.name),
                 network.host_veth_name(self.name, f"{self.name}-controlplane-1")}
        left += [f"link {n}" for n in sorted(names) if network.link_exists(n)]
        cidr = ipaddress.IPv4Network(self.cidr)
        left += [f"route/address {o.describe()}" for o in network.host_ipv4_networks()
                 if o.network.overlaps(cidr)]
        left += [f"loop device {dev} ({backing})"
                 for dev, backing in loop_devices_under(str(self.directory))]
        if self.directory.exists():
            left.append(f"directory {self.directory}: {sorted(os.listdir(self.directory))}")
        return left


def loop_devices_under(directory: str) -> list[tuple[str, str]]:
    """Loop devices whose backing file lives under `directory`."""
    out = []
    for dev in sorted(os.listdir("/sys/block")):
        try:
            with open(f"/sys/block/{dev}/loop/backing_file") as f:
                backing = f.read().strip()
        except OSError:
            continue
        if backing.startswith(directory.rstrip("/") + "/"):
            out.append((dev, backing))
    return out


def _wait_gone(check, what: str, bound: float = 10.0) -> list[str]:
    """`check()` until it returns nothing, up to `bound` seconds (the kernel releases a
    loop device after the last mount of a dead mount namespace goes)."""
    deadline = time.monotonic() + bound
    left = check()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = check()
    return left


@pytest.fixture
def image_cluster(tmp_path: Path) -> Iterator[ImageCluster]:
    c = ImageCluster(name=reservations.cluster_name("simg"),
                     cidr=reservations.free_cidr("10.213"), state=tmp_path / "clusters",
                     talosconfig=tmp_path / "talosconfig")
    veth = network.host_veth_name(c.name, f"{c.name}-controlplane-1")
    before = snapshot(tmp_path, link_names={network.bridge_name(c.name), veth})
    yield c
    destroy_cluster(c.state, c.name, timeout=10)
    left = _wait_gone(c.leftovers, "cluster") + leftovers(before)
    assert not left, f"the test left behind: {left}"


def _tag(c: ImageCluster, address: str) -> str:
    """The server's Tag in `talosctl version` (mutual-TLS apid)."""
    res = c.talosctl("-n", address, "version", timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    server = res.stdout.split("Server:", 1)[1]
    return next(line.split(":", 1)[1].strip() for line in server.splitlines()
                if line.strip().startswith("Tag:"))


def _answers_again(c: ImageCluster, node: NodeRecord, old_pid: int) -> int:
    """Wait until a new machined runs and apid answers Version; the new pid."""
    deadline = time.monotonic() + BACK_WITHIN
    last = ""
    while time.monotonic() < deadline:
        pid = node_machined_pid(node)
        if pid and pid != old_pid:
            res = c.talosctl("-n", node.address, "version", "--short", timeout=60)
            if res.returncode == 0:
                return pid
            last = res.stderr
        time.sleep(0.5)
    pytest.fail(f"the node did not answer again within {BACK_WITHIN:.0f}s: {last}\n"
                + Path(node.log_path).read_text(errors="replace")[-3000:])


def test_sandbox_node_from_the_image_serves_its_os_release_and_a_reboot_boots_it_again(
        image_cluster: ImageCluster, image: imager_build.Result) -> None:
    c = image_cluster
    node = c.create(image.directory)
    assert node.boot_dir and node.launcher_pid
    record = bootslots.load(node.boot_dir)
    assert record.default == "A" and not record.on_trial
    assert record.image("A").tag == image.manifest["version"]
    # the node's own copy of the squashfs, not the cache's file
    slot_file = Path(bootslots.rootfs_path(node.boot_dir, "A"))
    cached = Path(image.directory) / "rootfs-amd64.sqsh"
    assert slot_file.stat().st_ino != cached.stat().st_ino
    assert slot_file.read_bytes() == cached.read_bytes()

    assert _tag(c, node.address) == image.manifest["version"]
    os_release = c.talosctl("-n", node.address, "read", "/etc/os-release")
    assert os_release.returncode == 0, os_release.stderr
    assert "ID=talos" in os_release.stdout
    assert f"VERSION_ID={image.manifest['version']}" in os_release.stdout
    assert "debian" not in os_release.stdout.lower()

    config = Path(node.directory, "state", "config.yaml").read_bytes()
    hostname = c.talosctl("-n", node.address, "get", "hostname", "-o",
                          "jsonpath={.spec.hostname}")
    assert hostname.returncode == 0 and hostname.stdout.strip() == node.name
    before = node_machined_pid(node)
    assert before

    rebooted = c.talosctl("-n", node.address, "reboot")
    assert rebooted.returncode == 0, rebooted.stdout + rebooted.stderr
    after = _answers_again(c, node, before)
    log = Path(node.log_path).read_text(errors="replace")
    assert "talos.firmware: the node rebooted" in log
    assert log.count("talos.firmware: booting slot A") == 2
    # the same node: its address (the veth stayed in the firmware's network namespace),
    # config and PKI (mutual TLS with the same talosconfig answers) and hostname
    assert after != before
    assert Path(node.directory, "state", "config.yaml").read_bytes() == config
    again = c.talosctl("-n", node.address, "get", "hostname", "-o",
                       "jsonpath={.spec.hostname}")
    assert again.returncode == 0 and again.stdout.strip() == node.name
    assert _tag(c, node.address) == image.manifest["version"]
    shown = c.talosctl("cluster", "show", "--name", c.name, "--state", str(c.state))
    assert shown.returncode == 0, shown.stderr
    row = next(line for line in shown.stdout.splitlines() if line.startswith(node.name))
    assert f"   {after}   running" in row  # the machined of this boot, not the first one


def test_firmware_boots_a_killed_node_again_and_destroy_leaves_nothing(
        image_cluster: ImageCluster, image: imager_build.Result) -> None:
    c = image_cluster
    # upstream's form of the option: this version's image by reference (the cached build)
    node = c.create(DEFAULT_REF)
    assert bootslots.load(node.boot_dir).image("A").tag == image.manifest["version"]
    first = node_machined_pid(node)
    assert first
    assert loop_devices_under(str(c.directory))  # the node's root is its slot's squashfs

    os.kill(first, signal.SIGKILL)
    _answers_again(c, node, first)
    log = Path(node.log_path).read_text(errors="replace")
    assert "(crash 1 in a row): booting again" in log
    assert log.count("talos.firmware: booting slot A") == 2

    destroyed = c.talosctl("cluster", "destroy", "--name", c.name, "--state", str(c.state))
    assert destroyed.returncode == 0, destroyed.stderr
    assert "stopped gracefully" in destroyed.stdout + destroyed.stderr
    assert _wait_gone(c.leftovers, "cluster") == []
