"""A local cluster's OCI registry (issue 18): `cluster create` starts Debian's
docker-registry on the bridge gateway and points the nodes at it through
machine.registries.mirrors; an image pushed there with the oras client is pulled by the
node's own containerd through `talosctl image pull`, `image list` shows it with the digest
the registry gave it, image verification rules decide what may be pulled, and
`cluster destroy` stops the registry and leaves nothing."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from talos.api.common import common_pb2
from talos.api.machine import image_pb2, image_pb2_grpc
from talos.imager import oci
from talos.imager.push import push_layout
from talos.machinery.client.connection import ConnectionOptions, connect, node_metadata
from talos.machinery.client.talosconfig import Talosconfig
from talos.provision import registry
from tests.e2e.cluster.conftest import Cluster
from tests.prerequisites import require

pytestmark = [pytest.mark.e2e, pytest.mark.root]


def _tiny_layout(tmp: Path, ref: str = "tiny:v1") -> str:
    """A one-layer OCI image layout tarball (a single small file) named `ref`."""
    payload = tmp / "hello.txt"
    payload.write_text("hello from the cluster registry\n")
    out = tmp / f"tiny-{len(list(tmp.iterdir()))}.tar"
    oci.make(str(out), {"hello.txt": str(payload)}, ref, "v1", 1_700_000_000)
    return str(out)


IMPORTED = "example.org/talos-e2e/imported:v1"


async def _image_service(c: Cluster, node: str, ref: str, tarball: bytes
                         ) -> tuple[list[tuple[str, str]], list[str], list[str], str]:
    """ImageService through apid: List (name, digest) in `system`; Remove `ref` and the
    names List gives then; Pull `ref` again and the names the pull streams; Import
    `tarball` and the name the node gives."""
    conn = await connect(ConnectionOptions.from_context(Talosconfig.load(c.talosconfig).get()))
    try:
        stub = image_pb2_grpc.ImageServiceStub(conn.channel)
        inst = common_pb2.ContainerdInstance(driver=common_pb2.CONTAINERD,
                                             namespace=common_pb2.NS_SYSTEM)
        md = node_metadata(node)
        before = [(i.name, i.digest) async for i in stub.List(
            image_pb2.ImageServiceListRequest(containerd=inst), metadata=md)]
        await stub.Remove(image_pb2.ImageServiceRemoveRequest(containerd=inst, image_ref=ref),
                          metadata=md)
        after = [i.name async for i in stub.List(
            image_pb2.ImageServiceListRequest(containerd=inst), metadata=md)]
        pulled = [r.name async for r in stub.Pull(
            image_pb2.ImageServicePullRequest(containerd=inst, image_ref=ref), metadata=md)
            if r.WhichOneof("response") == "name"]
        data = tarball
        chunks = [image_pb2.ImageServiceImportRequest(containerd=inst)] + [
            image_pb2.ImageServiceImportRequest(
                image_chunk=common_pb2.Data(bytes=data[i:i + 4096]))
            for i in range(0, len(data), 4096)]
        imported = await stub.Import(iter(chunks), metadata=md)
    finally:
        await conn.close()
    return before, after, pulled, imported.name


async def _pull_status(c: Cluster, node: str, ref: str) -> tuple[grpc.StatusCode, str]:
    """ImageService.Pull of `ref` through apid: its status code and details."""
    conn = await connect(ConnectionOptions.from_context(Talosconfig.load(c.talosconfig).get()))
    try:
        stub = image_pb2_grpc.ImageServiceStub(conn.channel)
        inst = common_pb2.ContainerdInstance(driver=common_pb2.CONTAINERD,
                                             namespace=common_pb2.NS_SYSTEM)
        try:
            async for _ in stub.Pull(image_pb2.ImageServicePullRequest(
                    containerd=inst, image_ref=ref), metadata=node_metadata(node)):
                pass
        except grpc.aio.AioRpcError as e:
            return e.code(), str(e.details())
        return grpc.StatusCode.OK, ""
    finally:
        await conn.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_image_pushed_to_the_cluster_registry_is_pulled_by_the_node(
        make_cluster: Callable[[str], Cluster], tmp_path: Path) -> None:
    require("docker-registry", "ctr", "containerd")
    c = make_cluster("e2e-reg")
    res = c.create("--workers", "0")
    assert res.returncode == 0, res.stderr[-3000:]
    record = c.record()
    assert record.registry_pid and _alive(record.registry_pid)
    base = c.cidr.rsplit(".", 1)[0]
    gateway, cp = f"{base}.1", f"{base}.2"
    assert registry.wait_ready(gateway, timeout=30)

    ref = f"{registry.address(gateway)}/talos-e2e/tiny:v1"
    pushed = push_layout(_tiny_layout(tmp_path), ref, plain_http=True)
    assert pushed.digest.startswith("sha256:")

    # the node's containerd may still be starting: retry the pull until it answers
    deadline = time.monotonic() + 120
    pull = c.talosctl("-n", cp, "image", "pull", "--namespace", "system", ref)
    while pull.returncode != 0 and time.monotonic() < deadline:
        time.sleep(1)
        pull = c.talosctl("-n", cp, "image", "pull", "--namespace", "system", ref)
    assert pull.returncode == 0, pull.stderr[-3000:]

    listed = c.talosctl("-n", cp, "image", "list", "--namespace", "system")
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert listed.stdout.split("\n")[0].split() == ["NODE", "IMAGE", "DIGEST", "SIZE",
                                                    "CREATED"]
    rows = [line.split() for line in listed.stdout.splitlines()[1:]]
    assert [cp, ref, pushed.digest] in [r[:3] for r in rows], listed.stdout

    # the Kubernetes namespace does not hold it
    cri = c.talosctl("-n", cp, "image", "list")
    assert cri.returncode == 0, cri.stderr[-3000:]
    assert ref not in cri.stdout

    # machine.ImageService answers too (apid proxies it to the one node named)
    before, after, pulled, imported = asyncio.run(_image_service(
        c, cp, ref, Path(_tiny_layout(tmp_path, IMPORTED)).read_bytes()))
    assert (ref, pushed.digest) in before
    assert ref not in after
    assert pulled == [ref]
    assert imported == IMPORTED
    again = c.talosctl("-n", cp, "image", "list", "--namespace", "system")
    assert IMPORTED in again.stdout, again.stdout

    # image verification rules apply to pulls (as upstream's image.Pull): the repository
    # with a skip rule is still pulled, every other one of the registry is denied and
    # not pulled
    other = f"{registry.address(gateway)}/talos-e2e/other:v1"
    push_layout(_tiny_layout(tmp_path, "other:v1"), other, plain_http=True)
    rules = tmp_path / "rules.yaml"
    rules.write_text("apiVersion: v1alpha1\nkind: ImageVerificationConfig\nrules:\n"
                     f"  - image: {registry.address(gateway)}/talos-e2e/tiny\n"
                     "    skip: true\n"
                     f"  - image: {registry.address(gateway)}/*\n"
                     "    deny: true\n")
    patched = c.talosctl("-n", cp, "patch", "mc", "--mode", "no-reboot",
                         "--patch", f"@{rules}")
    assert patched.returncode == 0, patched.stderr[-3000:]
    allowed = c.talosctl("-n", cp, "image", "pull", "--namespace", "system", ref)
    assert allowed.returncode == 0, allowed.stderr[-3000:]
    denied = c.talosctl("-n", cp, "image", "pull", "--namespace", "system", other)
    assert denied.returncode == 1, denied.stdout + denied.stderr
    assert "verification denied by matched rule (0001)" in denied.stderr, denied.stderr
    assert asyncio.run(_pull_status(c, cp, other)) == (
        grpc.StatusCode.PERMISSION_DENIED, "verification denied by matched rule (0001)")
    listed = c.talosctl("-n", cp, "image", "list", "--namespace", "system")
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert ref in listed.stdout and other not in listed.stdout, listed.stdout

    pid = record.registry_pid
    gone = c.talosctl("cluster", "destroy", "--name", c.name, "--state", str(c.state))
    assert gone.returncode == 0, gone.stderr[-3000:]
    assert not _alive(pid)
    assert not os.path.exists(c.directory)
