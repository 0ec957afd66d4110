"""The image under test, built once per session (from the cache when its inputs have not
changed), and VMs booted from it that the tests always stop."""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from talos.imager import build as imager_build
from talos.imager import qemu
from talos.provision import network
from talos.provision.destroy import destroy_cluster, node_processes
from tests import reservations
from tests.cluster_under_test import ClusterUnderTest
from tests.leftovers import leftovers, snapshot

IMAGE_TOOLS = ("gcc", "ldd", "mksquashfs", "zstd", "objcopy", "sfdisk", "mkfs.vfat",
               "mcopy", "mmd", "etcd", "containerd", "runc")


@pytest.fixture(scope="session")
def image() -> imager_build.Result:
    return imager_build.build()


def artifact(result: imager_build.Result, name: str) -> str:
    return os.path.join(result.directory, name)


class RunningVM:
    """A qemu VM in a network namespace of its own (its forwarded ports collide with
    nothing on the host); `run_in_netns` runs a command beside it."""

    def __init__(self, vm: qemu.VM) -> None:
        self.vm = vm
        self.beside: list[subprocess.Popen[bytes]] = []
        self.started = time.monotonic()
        # unshare without --fork execs: the shell, then qemu, keep this pid
        script = 'ip link set lo up && exec "$@"'
        self.proc = subprocess.Popen(["unshare", "--net", "--", "sh", "-c", script, "sh",
                                      *qemu.argv(vm)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        # until unshare has run, /proc/PID/ns/net is still the host's
        host_netns = os.readlink("/proc/self/ns/net")
        while self.proc.poll() is None:
            try:
                if os.readlink(f"/proc/{self.proc.pid}/ns/net") != host_netns:
                    break
            except FileNotFoundError:
                break
            time.sleep(0.01)

    def console(self) -> str:
        try:
            with open(self.vm.serial_log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for_console(self, text: str, limit_s: float = 280.0) -> float:
        """Seconds from qemu's start until `text` appears on the serial console."""
        while time.monotonic() - self.started < limit_s:
            if text in self.console():
                return time.monotonic() - self.started
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout \
                    else ""
                pytest.fail(f"qemu exited ({self.proc.returncode}) before the console said "
                            f"{text!r}: {out.strip()}\n--- console ---\n{self.console()[-3000:]}")
            time.sleep(0.5)
        pytest.fail(f"the console did not say {text!r} within {limit_s:.0f}s\n"
                    f"--- console ---\n{self.console()[-3000:]}")

    def run_in_netns(self, argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(["nsenter", f"--net=/proc/{self.proc.pid}/ns/net", "--", *argv],
                              capture_output=True, text=True, timeout=timeout, check=False)

    def start_in_netns(self, argv: list[str]) -> subprocess.Popen[bytes]:
        """A process beside the VM in its network namespace (a config server: the guest
        reaches the namespace's 127.0.0.1 as 10.0.2.2), stopped with the VM."""
        proc = subprocess.Popen(["nsenter", f"--net=/proc/{self.proc.pid}/ns/net", "--",
                                 *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.beside.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.beside:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture
def boot_vm(tmp_path) -> Iterator:
    started: list[RunningVM] = []

    def boot(vm: qemu.VM) -> RunningVM:
        running = RunningVM(vm)
        started.append(running)
        return running

    yield boot
    for running in started:
        running.stop()


# ---- `talosctl cluster create qemu` clusters (tests/vm/test_qemu_cluster.py and others)

@dataclass
class QemuCluster(ClusterUnderTest):
    TALOSCTL_TIMEOUT = 900.0

    def leftovers(self, pids: list[int]) -> list[str]:
        left = [f"process {p.pid}" for p in node_processes(str(self.directory))]
        left += [f"qemu pid {pid}" for pid in pids if _alive(pid)]
        names = {network.bridge_name(self.name)}
        names |= {network.host_veth_name(self.name, f"{self.name}-controlplane-{i}")
                  for i in range(1, 4)}
        left += [f"link {n}" for n in sorted(names) if network.link_exists(n)]
        cidr = ipaddress.IPv4Network(self.cidr)
        left += [f"route/address {o.describe()}" for o in network.host_ipv4_networks()
                 if o.network.overlaps(cidr)]
        if self.directory.exists():
            left.append(f"directory {self.directory}: {sorted(os.listdir(self.directory))}")
        return left


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


@pytest.fixture
def qemu_cluster(tmp_path: Path, image) -> Iterator[QemuCluster]:
    """A cluster name and free CIDR (reserved against other test runs); whatever the test
    does, the cluster is destroyed afterwards and nothing of it may be left."""
    c = QemuCluster(name=reservations.cluster_name("qvm"), cidr=reservations.free_cidr("10.213"),
                    state=tmp_path / "clusters", talosconfig=tmp_path / "talosconfig")
    taps = {network.host_veth_name(c.name, f"{c.name}-controlplane-{i}") for i in range(1, 4)}
    before = snapshot(tmp_path, link_names={network.bridge_name(c.name), *taps})
    yield c
    destroy_cluster(c.state, c.name, timeout=10)
    left = c.leftovers([]) + leftovers(before)
    assert not left, f"the test left behind: {left}"
