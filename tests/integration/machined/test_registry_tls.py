"""A node pulls from a registry behind its own CA once machine.registries.config.<host>.tls
says so (upstream v1.13.9's containerd hosts.toml generation): a real docker-registry
served over TLS with a test CA, on an address of the loopback device of the sandbox node's
own network namespace (gone with the node), pulled by the node's containerd through
ImageService.Pull. Without `tls.ca` the pull fails naming the certificate problem; with the
CA (and a client identity) applied through the API (no reboot) it succeeds, and so it does
with `insecureSkipVerify` alone. The client key never reaches the node's log."""

from __future__ import annotations

import base64
import ipaddress
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from talos.api.common import common_pb2
from talos.api.machine import image_pb2, image_pb2_grpc
from talos.api.machine import machine_pb2 as m
from talos.imager import oci
from talos.machinery.pki import CertificateAuthority
from talos.machinery.pki.ca import IssueOptions

from .node import Node, running_node

pytestmark = [pytest.mark.root,
              pytest.mark.requires("unshare", "containerd", "ctr", "docker-registry",
                                   "nsenter")]

#: an address given to the loopback device of the node's own network namespace (nothing
#: else listens there: any port is free); not 127.x, which containerd speaks plain HTTP to
ADDRESS = "198.18.0.1"
HOST = f"{ADDRESS}:5443"
REF = f"{HOST}/talos-test/tiny:v1"
INST = common_pb2.ContainerdInstance(driver=common_pb2.CONTAINERD,
                                     namespace=common_pb2.NS_SYSTEM)
ROOT = str(Path(__file__).resolve().parents[3])


def _certificates(d: Path) -> tuple[bytes, bytes, bytes]:
    """Write the registry's certificate and key (issued by a fresh test CA) under `d`;
    the CA certificate and a client certificate and key issued by it."""
    ca = CertificateAuthority.generate(organization="registry test", common_name="test CA")
    server = ca.issue_key_pair(IssueOptions(
        common_name="registry", ip_addresses=(ipaddress.ip_address(ADDRESS),),
        server=True, client=False))
    client = ca.issue_key_pair(IssueOptions(common_name="node"))
    (d / "server.crt").write_bytes(server.crt)
    (d / "server.key").write_bytes(server.key)
    (d / "ca.crt").write_bytes(ca.to_pem().crt)
    return ca.to_pem().crt, client.crt, client.key


def _in_node_net(node: Node, *argv: str) -> list[str]:
    return ["nsenter", f"--net=/proc/{node.sandbox.pid}/ns/net", *argv]


def _start_registry(node: Node, d: Path, auth: str = "") -> subprocess.Popen[bytes]:
    """docker-registry over TLS on HOST in the node's network namespace (`auth`: its
    top-level `auth:` section, YAML); storage under `d`, kept across restarts."""
    subprocess.run(_in_node_net(node, "ip", "address", "replace", f"{ADDRESS}/32", "dev",
                                "lo"), check=True)
    (d / "registry.yml").write_text(
        "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {d / 'storage'}\n"
        f"http:\n  addr: {HOST}\n  secret: registry-tls-test\n"
        f"  tls:\n    certificate: {d / 'server.crt'}\n    key: {d / 'server.key'}\n"
        + auth)
    with open(d / "registry.log", "wb") as log:
        # nsenter execs the registry: the pid is the registry's
        return subprocess.Popen(_in_node_net(node, "docker-registry", "serve",
                                             str(d / "registry.yml")),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/")


def _push(node: Node, d: Path) -> None:
    """Push a one-layer image to the registry from inside the node's network namespace,
    trusting the test CA (retried while the registry starts)."""
    (d / "hello.txt").write_text("hello over TLS\n")
    oci.make(str(d / "tiny.tar"), {"hello.txt": str(d / "hello.txt")}, "tiny:v1", "v1",
             1_700_000_000)
    code = ("import sys; from talos.imager.push import push_layout; "
            "push_layout(sys.argv[1], sys.argv[2])")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{ROOT}/src:{ROOT}",
           "REQUESTS_CA_BUNDLE": str(d / "ca.crt")}
    for _ in range(100):
        res = subprocess.run(_in_node_net(node, sys.executable, "-c", code,
                                          str(d / "tiny.tar"), REF),
                             capture_output=True, text=True, env=env)
        if res.returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"push to the test registry failed: {res.stderr[-2000:]}")


async def _pull(node: Node, ref: str = REF) -> tuple[grpc.StatusCode, str]:
    stub = image_pb2_grpc.ImageServiceStub(node.channel)
    try:
        names = [r.name async for r in stub.Pull(image_pb2.ImageServicePullRequest(
            containerd=INST, image_ref=ref)) if r.WhichOneof("response") == "name"]
    except grpc.aio.AioRpcError as e:
        return e.code(), str(e.details())
    assert names == [ref]
    await stub.Remove(image_pb2.ImageServiceRemoveRequest(containerd=INST, image_ref=ref))
    return grpc.StatusCode.OK, ""


async def _apply(node: Node, tls: str, mirrors: str = "", auth: str = "") -> None:
    """machine.registries with HOST's `tls` (and `auth`: its fields, 10 spaces in)."""
    base = node.config.replace(b"cluster:\n", b"cluster:\n  controlPlane:\n"
                                               b"    endpoint: https://127.0.0.1:6443\n")
    patch = (f"  registries:\n{mirrors}    config:\n      {HOST}:\n        tls:\n{tls}"
             + (f"        auth:\n{auth}" if auth else "")).encode()
    data = base.replace(b"machine:\n", b"machine:\n" + patch, 1)
    await node.api.ApplyConfiguration(m.ApplyConfigurationRequest(
        data=data, mode=m.ApplyConfigurationRequest.NO_REBOOT))


async def test_a_registry_behind_its_own_ca_is_pulled_once_the_config_names_it(
        tmp_path: Path) -> None:
    d = tmp_path / "registry"
    d.mkdir()
    ca, client_crt, client_key = _certificates(d)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    async with running_node(tmp_path / "n", hostname="registry-tls") as node:
        registry = _start_registry(node, d)
        try:
            _push(node, d)
            await node.wait_service("containerd", "running")

            # no TLS settings: containerd does not trust the registry's certificate
            code, details = await _pull(node)
            assert code == grpc.StatusCode.FAILED_PRECONDITION, details
            assert "x509: certificate signed by unknown authority" in details, details

            # the CA (and a client identity, which the registry does not ask for)
            await _apply(node, f"          ca: {b64(ca)}\n          clientIdentity:\n"
                               f"            crt: {b64(client_crt)}\n"
                               f"            key: {b64(client_key)}\n")
            assert await _pull(node) == (grpc.StatusCode.OK, "")

            # no CA, verification skipped
            await _apply(node, "          insecureSkipVerify: true\n")
            assert await _pull(node) == (grpc.StatusCode.OK, "")

            # a mirror whose only endpoint is the registry (no fallback to registry.test,
            # which does not resolve): the endpoint's host's CA applies to it
            await _apply(node, f"          ca: {b64(ca)}\n",
                         "    mirrors:\n      registry.test:\n"
                         f"        endpoints: [https://{HOST}]\n        skipFallback: true\n")
            assert await _pull(node, "registry.test/talos-test/tiny:v1") == (
                grpc.StatusCode.OK, "")

            log = node.sandbox.log_path.read_bytes()
            assert client_key not in log and b64(client_key).encode() not in log
        finally:
            registry.kill()
            registry.wait()
            shutil.rmtree(d, ignore_errors=True)
