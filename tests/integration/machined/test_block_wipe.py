"""`talosctl wipe disk` end to end: talosctl -> apid (mTLS) -> a real plain-mode machined
(its own root, not a sandbox) wiping a loop device the test made; and a sandbox node (its
maintenance API, `--insecure`) refusing before it opens anything.

A plain-mode node runs on the host, so it sees the host's block devices; the tests only
ever name loop devices they attached themselves (tests.loop_devices)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from talos.apid.server import ApidServer, ApidSettings
from talos.machinery.client.talosconfig import Context, Talosconfig
from talos.provision.sandbox import launch
from tests.integration.apid.harness import Pki, free_port, new_pki
from tests.leftovers import nothing_left_async
from tests.loop_devices import loop_device, signatures
from tests.processes import terminate

pytestmark = pytest.mark.requires("root", "losetup", "blkid", "mkfs.ext4", "mount", "umount")

CONFIG = """version: v1alpha1
machine:
  type: controlplane
  network:
    hostname: wipe-test-node
cluster:
  clusterName: wipe-test
"""
HOST = "127.0.0.2"


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[str]:
    """A loop device with an ext4 filesystem on it (its kernel name)."""
    with loop_device(tmp_path) as (name, _):
        subprocess.run(["mkfs.ext4", "-q", f"/dev/{name}"], check=True, capture_output=True)
        assert 'TYPE="ext4"' in signatures(f"/dev/{name}")
        yield name


@pytest.fixture
async def talosconfig(tmp_path: Path) -> AsyncIterator[Path]:
    """An admin talosconfig for apid in front of a plain-mode machined."""
    pki: Pki = new_pki()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG)
    root = tmp_path / "root"
    async with nothing_left_async(tmp_path, what="plain-mode machined"):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "talos", "machined", "--root", str(root), "--config",
            str(cfg), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            sock = root / "system/run/machined/machine.sock"
            async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
                await asyncio.wait_for(ch.channel_ready(), 60)
            port = free_port([HOST])
            cert = pki.node_cert(HOST)
            apid = ApidServer(ApidSettings(pki.ca_pem, cert.crt, cert.key,
                                           listen=f"{HOST}:{port}", backend_socket=str(sock),
                                           remote_port=port))
            await apid.start()
            try:
                path = tmp_path / "talosconfig"
                ctx = Context.from_pems(endpoints=(f"{HOST}:{port}",), nodes=(HOST,),
                                        ca=pki.ca_pem, client=pki.client("os:admin"))
                Talosconfig(context="test", contexts={"test": ctx}).save(path)
                yield path
            finally:
                await apid.stop(0)
        finally:
            await terminate(proc)


async def _talosctl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TALOSCONFIG"}
    result = await asyncio.to_thread(
        subprocess.run, ["talosctl", "--talosconfig", str(config), *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
        stdin=subprocess.DEVNULL)
    assert "Traceback" not in result.stderr, result.stderr
    return result


async def test_wipe_disk_clears_a_loop_device_and_prints_nothing(
        talosconfig: Path, loop: str) -> None:
    r = await _talosctl(talosconfig, "wipe", "disk", loop)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert signatures(f"/dev/{loop}") == ""


async def test_wipe_disk_with_zeroes_zeroes_the_whole_device(
        talosconfig: Path, loop: str) -> None:
    r = await _talosctl(talosconfig, "wipe", "disk", "--method", "ZEROES", loop)
    assert r.returncode == 0, r.stderr
    data = await asyncio.to_thread(Path(f"/dev/{loop}").read_bytes)
    assert data == bytes(16 << 20)


async def test_a_mounted_device_is_refused_and_left_intact(
        talosconfig: Path, loop: str, tmp_path: Path) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    await asyncio.to_thread(subprocess.run, ["mount", f"/dev/{loop}", str(mnt)], check=True)
    try:
        r = await _talosctl(talosconfig, "wipe", "disk", loop)
    finally:
        await asyncio.to_thread(subprocess.run, ["umount", str(mnt)], check=True)
    assert r.returncode == 1
    # a node's error is printed as this talosctl prints every node's error: "NODE: desc"
    assert f'{HOST}: block device "{loop}" is mounted or in use' in r.stderr, r.stderr
    assert 'TYPE="ext4"' in signatures(f"/dev/{loop}")


async def test_an_unknown_device_is_not_found_and_nothing_is_wiped(
        talosconfig: Path, loop: str) -> None:
    # every device is validated before any is wiped: the known one is left as it was
    r = await _talosctl(talosconfig, "wipe", "disk", loop, "nosuchdisk0")
    assert r.returncode == 1
    assert f'{HOST}: blockdevice "nosuchdisk0" not found' in r.stderr, r.stderr
    assert 'TYPE="ext4"' in signatures(f"/dev/{loop}")


async def test_an_unknown_method_is_refused_by_talosctl(talosconfig: Path, loop: str) -> None:
    r = await _talosctl(talosconfig, "wipe", "disk", "--method", "SLOW", loop)
    assert r.returncode == 1
    assert "invalid wipe method" in r.stderr, r.stderr
    assert 'TYPE="ext4"' in signatures(f"/dev/{loop}")


def test_a_sandbox_node_refuses_in_maintenance_mode_and_leaves_the_device(
        tmp_path: Path, loop: str) -> None:
    """A sandbox node sees the host's block devices: it refuses before opening any."""
    talosctl = shutil.which("talosctl")
    nsenter = shutil.which("nsenter")
    assert talosctl is not None and nsenter is not None
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "TALOSCONFIG"}
    env["HOME"] = str(home)
    node = launch(tmp_path / "node")  # no config: maintenance mode on the node's :50000
    try:
        node.wait_socket()
        while True:  # the maintenance server comes up after the initialize sequence
            r = subprocess.run([nsenter, "-t", str(node.pid), "--net", talosctl, "wipe", "disk",
                                "--insecure", "-n", "127.0.0.1", loop], capture_output=True,
                               text=True, env=env, timeout=120, check=False,
                               stdin=subprocess.DEVNULL)
            if "connection refused" not in r.stderr:
                break
            time.sleep(0.2)
    finally:
        node.destroy()
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1
    assert "wiping block devices is not supported in container mode" in r.stderr, r.stderr
    assert 'TYPE="ext4"' in signatures(f"/dev/{loop}")
