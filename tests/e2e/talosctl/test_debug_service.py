"""machine.DebugService.ContainerRun through a real apid and machined with a real containerd:
a busybox image the test builds itself (Debian's busybox-static, no network) is imported
through ImageService, run with stdin sent over the stream, and its output and exit code come
back as upstream v1.13.9's messages; the first message is checked as upstream's. The image,
containers and snapshots are removed afterwards."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from talos.api.common import common_pb2
from talos.api.machine import debug_pb2, debug_pb2_grpc, image_pb2, image_pb2_grpc
from tests.e2e.talosctl.conftest import HOSTS, E2ECluster
from tests.e2e.talosctl.test_containers_netstat import _running_services, poll

pytestmark = pytest.mark.e2e

HOST = HOSTS[1]
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
IMAGE = "example.org/talos-e2e/debug-busybox:v1"
INMEM = common_pb2.ContainerdInstance(driver=common_pb2.CONTAINERD,
                                      namespace=common_pb2.NS_SYSTEM)
Req = debug_pb2.DebugContainerRunRequest
Spec = debug_pb2.DebugContainerRunRequestSpec


def _tar_entry(tar: tarfile.TarFile, name: str, *, data: bytes | None = None,
               link: str | None = None) -> None:
    info = tarfile.TarInfo(name)
    if link is not None:
        info.type, info.linkname = tarfile.SYMTYPE, link
    elif data is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    else:
        info.size, info.mode = len(data), 0o755
    tar.addfile(info, io.BytesIO(data) if data is not None else None)


def busybox_image(out: Path, ref: str = IMAGE) -> Path:
    """An OCI layout tarball: one layer with a static busybox as /bin/sh, cat, echo, ..."""
    layer_buf = io.BytesIO()
    with tarfile.open(fileobj=layer_buf, mode="w") as tar:
        _tar_entry(tar, "bin")
        _tar_entry(tar, "bin/busybox", data=Path(BUSYBOX).read_bytes())
        for applet in ("sh", "cat", "echo", "tty", "stty"):
            _tar_entry(tar, f"bin/{applet}", link="busybox")
    layer = layer_buf.getvalue()

    def desc(media: str, blob: bytes) -> dict[str, object]:
        return {"mediaType": media, "digest": "sha256:" + hashlib.sha256(blob).hexdigest(),
                "size": len(blob)}

    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [desc("", layer)["digest"]]},
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.oci.image.config.v1+json", config),
        "layers": [desc("application/vnd.oci.image.layer.v1.tar", layer)],
    }).encode()
    mdesc = desc("application/vnd.oci.image.manifest.v1+json", manifest)
    mdesc["annotations"] = {"io.containerd.image.name": ref,
                            "org.opencontainers.image.ref.name": ref}
    index = json.dumps({"schemaVersion": 2, "manifests": [mdesc]}).encode()
    with tarfile.open(out, "w") as tar:
        for blob in (layer, config, manifest):
            info = tarfile.TarInfo("blobs/sha256/" + hashlib.sha256(blob).hexdigest())
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
        for name, blob in (("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
                           ("index.json", index)):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return out


def _channel(e2e: E2ECluster) -> grpc.Channel:
    client = e2e.pki.client("os:admin")
    creds = grpc.ssl_channel_credentials(e2e.pki.ca_pem, client.key, client.crt)
    return grpc.secure_channel(e2e.endpoint(), creds)


MD = (("node", HOST),)


def _ctr(e2e: E2ECluster, *args: str) -> str:
    sock = str(e2e.nodes[HOST].root / "var/run/containerd/containerd.sock")
    return subprocess.run(["ctr", "--address", sock, "-n", "system", *args], check=True,
                          capture_output=True, text=True, timeout=120).stdout


@pytest.fixture
def imported(e2e: E2ECluster, tmp_path: Path) -> Iterator[str]:
    """IMAGE imported into the node's `system` namespace through ImageService; afterwards
    removed, and no debug container or snapshot is left."""
    poll(lambda: _running_services(e2e, HOST).get("containerd", {}).get("STATUS")
         == "RUNNING", f"containerd RUNNING on {HOST}")
    data = busybox_image(tmp_path / "busybox.tar").read_bytes()
    with _channel(e2e) as ch:
        stub = image_pb2_grpc.ImageServiceStub(ch)
        chunks = [image_pb2.ImageServiceImportRequest(containerd=INMEM)] + [
            image_pb2.ImageServiceImportRequest(
                image_chunk=common_pb2.Data(bytes=data[i:i + 65536]))
            for i in range(0, len(data), 65536)]
        name = stub.Import(iter(chunks), metadata=MD, timeout=120).name
        try:
            yield name
        finally:
            stub.Remove(image_pb2.ImageServiceRemoveRequest(containerd=INMEM, image_ref=name),
                        metadata=MD, timeout=120)
    assert "debug-" not in _ctr(e2e, "containers", "list")
    assert "debug-" not in _ctr(e2e, "snapshots", "list")


def _run(e2e: E2ECluster, *requests: Req) -> tuple[bytes, list[int]]:
    """(stdout_data joined, the exit codes sent) of one ContainerRun."""
    out, codes = b"", []
    with _channel(e2e) as ch:
        stub = debug_pb2_grpc.DebugServiceStub(ch)
        for resp in stub.ContainerRun(iter(requests), metadata=MD, timeout=120):
            if resp.WhichOneof("resp") == "stdout_data":
                out += resp.stdout_data
            else:
                codes.append(resp.exit_code)
    return out, codes


def _spec(image: str, *args: str, tty: bool = False) -> Req:
    return Req(spec=Spec(containerd=INMEM, image_name=image, args=list(args),
                         env={"GREETING": "hi"}, profile=Spec.PROFILE_PRIVILEGED, tty=tty))


@pytest.mark.requires("root", "containerd", "ctr", "runc", "busybox")
def test_container_run_streams_stdin_output_and_the_exit_code(e2e: E2ECluster,
                                                              imported: str) -> None:
    out, codes = _run(e2e, _spec(imported, "/bin/sh", "-c",
                                 'cat; echo "$GREETING" >&2; test -d /host/proc; exit 7'),
                      Req(stdin_data=b"hello "), Req(stdin_data=b"debug\n"))
    assert out == b"hello debug\nhi\n"
    assert codes == [7]  # the last message, once


@pytest.mark.requires("root", "containerd", "ctr", "runc", "busybox")
def test_container_run_with_tty_gives_the_container_a_terminal(e2e: E2ECluster,
                                                               imported: str) -> None:
    out, codes = _run(e2e, _spec(imported, "/bin/sh", "-c",
                                 "test -t 0 && test -t 1 && echo on-a-tty; stty size",
                                 tty=True),
                      Req(term_resize=debug_pb2.DebugContainerTerminalResize(width=91,
                                                                             height=17)))
    assert b"on-a-tty" in out, out
    assert codes == [0]


def _error(e2e: E2ECluster, *requests: Req) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        _run(e2e, *requests)
    return err.value


def test_container_run_checks_the_first_message_as_upstream(e2e: E2ECluster) -> None:
    err = _error(e2e, Req(stdin_data=b"ls\n"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err
    assert "must be the container spec" in (err.details() or "")
    err = _error(e2e, Req(spec=Spec(containerd=INMEM, image_name="example.org/x:1")))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err
    assert "unsupported debug container profile: PROFILE_UNSPECIFIED" in (err.details() or "")


@pytest.mark.requires("root", "containerd")
def test_container_run_of_a_missing_image_is_not_found(e2e: E2ECluster) -> None:
    poll(lambda: _running_services(e2e, HOST).get("containerd", {}).get("STATUS")
         == "RUNNING", f"containerd RUNNING on {HOST}")
    err = _error(e2e, _spec("example.org/talos-e2e/not-there:v1", "/bin/sh"))
    assert err.code() == grpc.StatusCode.NOT_FOUND, err
    assert "example.org/talos-e2e/not-there:v1" in (err.details() or "")


@pytest.mark.requires("root", "containerd", "ctr", "runc", "busybox")
def test_talosctl_debug_imports_a_tarball_and_runs_it_with_stdin(e2e: E2ECluster,
                                                                 tmp_path: Path) -> None:
    poll(lambda: _running_services(e2e, HOST).get("containerd", {}).get("STATUS")
         == "RUNNING", f"containerd RUNNING on {HOST}")
    ref = "example.org/talos-e2e/debug-cli:v1"
    tarball = busybox_image(tmp_path / "debug-tools.tar", ref)
    try:
        r = e2e.run("-n", HOST, "debug", str(tarball), "--args", "/bin/sh,-c,cat",
                    input="from a pipe\n")
        assert r.returncode == 0, r.stderr
        assert r.stdout == "from a pipe\n"
        assert r.stderr == f"{HOST}: image imported {ref} from {tarball}\n"
        # a failing container fails the command, naming its code (upstream's error)
        r = e2e.run("-n", HOST, "debug", str(tarball), "--args", "/bin/sh",
                    "--args", "-c", "--args", "echo out; exit 3")
        assert r.returncode == 1
        assert r.stdout == "out\n"
        assert r.stderr.endswith("Error: container exited with code 3\n"), r.stderr
        # one node only, as upstream
        r = e2e.run("-n", HOSTS[0], "-n", HOST, "debug", str(tarball))
        assert r.returncode == 1
        assert f"expected exactly one node, got [{HOSTS[0]} {HOST}]" in r.stderr, r.stderr
    finally:
        _ctr(e2e, "images", "remove", ref)
    assert "debug-" not in _ctr(e2e, "containers", "list")
    assert "debug-" not in _ctr(e2e, "snapshots", "list")


@pytest.mark.requires("root", "containerd", "ctr", "runc", "busybox")
def test_a_client_going_away_kills_and_removes_the_container(e2e: E2ECluster,
                                                              imported: str) -> None:
    done = threading.Event()

    def requests() -> Iterator[Req]:
        yield _spec(imported, "/bin/sh", "-c", "echo started; exec cat")
        done.wait()  # the stream stays open meanwhile: cat waits for stdin

    with _channel(e2e) as ch:
        call = debug_pb2_grpc.DebugServiceStub(ch).ContainerRun(requests(), metadata=MD)
        try:
            first = next(call)
            assert first.stdout_data == b"started\n"
            assert "debug-" in _ctr(e2e, "containers", "list")
            call.cancel()
        finally:
            done.set()
    poll(lambda: "debug-" not in _ctr(e2e, "containers", "list"), "debug container removed")
