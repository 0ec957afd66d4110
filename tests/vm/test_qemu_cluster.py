"""`talosctl cluster create qemu`: a cluster whose nodes are qemu VMs booted from the image,
on taps on a bridge, configured through `talos.config=`; `cluster show` names each node's
serial console; `cluster destroy` leaves nothing (process, tap, bridge, route, file).

Runs the real talosctl as a subprocess, as a user would; one control plane and no worker
(each emulated VM keeps a core busy)."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

import pytest

from talos.provision import network
from talos.provision.destroy import destroy_cluster
from talos.provision.state import ClusterRecord
from tests import reservations
from tests.vm.conftest import IMAGE_TOOLS, QemuCluster, _alive

pytestmark = [pytest.mark.vm, pytest.mark.root,
              pytest.mark.requires(*IMAGE_TOOLS, "qemu-system-x86_64", "ip")]


async def _platform(talosconfig: Path, context: str) -> str:
    """The platform the node's Version reports, asked through mutual-TLS apid."""
    from google.protobuf import empty_pb2

    from talos.api.machine import machine_pb2_grpc
    from talos.machinery.client.connection import ConnectionOptions, connect
    from talos.machinery.client.talosconfig import Talosconfig

    ctx = Talosconfig.load(talosconfig).get(context)
    conn = await connect(ConnectionOptions.from_context(ctx))
    try:
        reply = await machine_pb2_grpc.MachineServiceStub(conn.channel).Version(
            empty_pb2.Empty(), timeout=120)
    finally:
        await conn.close()
    return str(reply.messages[0].platform.name)


def test_qemu_cluster_boots_a_vm_that_serves_mtls_apid_as_metal_and_destroy_leaves_nothing(
        qemu_cluster: QemuCluster) -> None:
    c = qemu_cluster
    created = c.talosctl("cluster", "create", "qemu", "--name", c.name, "--cidr", c.cidr,
                         "--controlplanes", "1", "--workers", "0", "--state", str(c.state),
                         "--skip-kubeconfig")
    assert created.returncode == 0, created.stdout + created.stderr
    assert "PROVISIONER           qemu (VMs)" in created.stdout
    record = ClusterRecord.load(c.directory)
    (node,) = record.nodes
    assert record.provisioner == "qemu" and node.role == "controlplane"
    assert ipaddress.IPv4Address(node.address) in ipaddress.IPv4Network(c.cidr)
    console = Path(node.log_path)
    # the kernel and machined of the VM wrote there: it is a real machine, not a sandbox
    text = console.read_text(errors="replace")
    assert "machined is PID 1 of the machine (platform metal)" in text
    assert "talos.config: downloaded the machine config" in text

    version = c.talosctl("-n", node.address, "version")
    assert version.returncode == 0, version.stderr
    assert f"NODE:        {node.address}" in version.stdout
    assert asyncio.run(_platform(c.talosconfig, c.name)) == "metal"

    shown = c.talosctl("cluster", "show", "--name", c.name, "--state", str(c.state))
    assert shown.returncode == 0, shown.stderr
    assert "qemu (VMs)" in shown.stdout
    row = next(line for line in shown.stdout.splitlines() if line.startswith(node.name))
    assert node.address in row and str(console) in row and "running" in row

    destroyed = c.talosctl("cluster", "destroy", "--name", c.name, "--state", str(c.state))
    assert destroyed.returncode == 0, destroyed.stderr
    assert c.leftovers([node.pid]) == []


def _hostname(c: QemuCluster, address: str) -> str:
    got = c.talosctl("-n", address, "get", "hostname", "-o", "jsonpath={.spec.hostname}",
                     timeout=300)
    assert got.returncode == 0, got.stderr
    return got.stdout.strip()


def test_a_vm_node_rebooted_by_talosctl_comes_back_with_its_config_and_destroy_leaves_nothing(
        qemu_cluster: QemuCluster) -> None:
    """`talosctl reboot` on a VM is a guest reboot(2): qemu resets the VM in place (no
    -no-reboot) and the node's launcher still serves its config, so the node boots again
    with the same config (mutual TLS with the same PKI answers) and the same hostname."""
    c = qemu_cluster
    created = c.talosctl("cluster", "create", "qemu", "--name", c.name, "--cidr", c.cidr,
                         "--controlplanes", "1", "--workers", "0", "--state", str(c.state),
                         "--skip-kubeconfig")
    assert created.returncode == 0, created.stdout + created.stderr
    record = ClusterRecord.load(c.directory)
    (node,) = record.nodes
    assert node.launcher_pid and _alive(node.launcher_pid) and _alive(node.pid)
    hostname = _hostname(c, node.address)
    assert hostname == node.name
    console = Path(node.log_path)

    rebooted = c.talosctl("-n", node.address, "reboot", timeout=900)
    assert rebooted.returncode == 0, rebooted.stdout + rebooted.stderr
    text = console.read_text(errors="replace")
    assert text.count("machined is PID 1 of the machine (platform metal)") == 2, text[-3000:]
    # a real reboot(2): the firmware ran again inside the same qemu; the first reboot
    # installed to the VM's disk (machine.install.disk /dev/vda), so the second boot reads
    # the config from the installed STATE (talos.config= is fetched only without one)
    assert "installed to /dev/vda: rebooting from it" in text, text[-3000:]
    assert text.count("SeaBIOS") == 2, text[-3000:]
    assert _alive(node.pid) and _alive(node.launcher_pid)  # the same qemu, reset in place
    version = c.talosctl("-n", node.address, "version", timeout=300)
    assert version.returncode == 0, version.stderr
    assert asyncio.run(_platform(c.talosconfig, c.name)) == "metal"
    assert _hostname(c, node.address) == hostname

    destroyed = c.talosctl("cluster", "destroy", "--name", c.name, "--state", str(c.state))
    assert destroyed.returncode == 0, destroyed.stderr
    assert c.leftovers([node.pid, node.launcher_pid]) == []


def test_a_vm_that_cannot_start_fails_the_create_naming_qemus_reason_and_leaves_nothing(
        tmp_path: Path) -> None:
    """qemu refuses a kernel that is not one: the create stops at its step, says what qemu
    said, and removes the bridge, the tap and the files it had made."""
    c = QemuCluster(name=reservations.cluster_name("qvmbad"),
                    cidr=reservations.free_cidr("10.213"), state=tmp_path / "clusters",
                    talosconfig=tmp_path / "talosconfig")
    bogus = tmp_path / "image"
    bogus.mkdir()
    (bogus / "vmlinuz-amd64").write_bytes(b"not a kernel")
    (bogus / "initramfs-amd64.zst").write_bytes(b"not an initramfs")
    try:
        res = c.talosctl("cluster", "create", "qemu", "--name", c.name, "--cidr", c.cidr,
                         "--workers", "0", "--image", str(bogus), "--state", str(c.state),
                         timeout=120)
        assert res.returncode == 1
        assert "cluster create failed at step 'launch VMs'" in res.stderr
        assert f"(node {c.name}-controlplane-1): qemu exited with 1" in res.stderr
        assert c.leftovers([]) == []
    finally:
        destroy_cluster(c.state, c.name, timeout=10)


def test_an_image_directory_without_the_boot_assets_is_named_before_anything_is_created(
        tmp_path: Path) -> None:
    c = QemuCluster(name="qvm-noimage", cidr="10.213.250.0/24", state=tmp_path / "clusters",
                    talosconfig=tmp_path / "talosconfig")
    res = c.talosctl("cluster", "create", "qemu", "--name", c.name, "--cidr", c.cidr,
                     "--image", str(tmp_path), "--state", str(c.state), timeout=60)
    assert res.returncode == 1
    assert f"--image {tmp_path}: vmlinuz-amd64 is missing" in res.stderr
    assert not c.state.exists() and not network.link_exists(network.bridge_name(c.name))
