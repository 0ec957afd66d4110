"""The client connection (talosconfig -> mTLS / maintenance mode) and `talosctl version`."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2_grpc
from talos.machinery.client.connection import (
    Connection,
    ConnectionOptions,
    connect,
    endpoint_target,
    nodes_metadata,
)
from talos.machinery.client.talosconfig import Context, Talosconfig
from talos.machinery.errors import InvalidArgument, TalosError, Unavailable
from talos.machinery.pki import CertificateAuthority
from tests.integration.apid.harness import Backend, Cluster, Pki, cluster, free_port, new_pki

HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]


def _talosconfig(tmp: Path, c: Cluster, *, pki: Pki | None = None, role: str = "os:reader",
                 endpoint: str | None = None, nodes: tuple[str, ...] = ()) -> Path:
    pki = pki or c.pki
    ctx = Context.from_pems(endpoints=(endpoint or f"127.0.0.2:{c.port}",), nodes=nodes,
                            ca=pki.ca_pem, client=pki.client(role))
    path = tmp / "talosconfig"
    Talosconfig(context="test", contexts={"test": ctx}).save(path)
    return path


async def _talosctl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TALOSCONFIG"}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["talosctl", "--talosconfig", str(config), *args],
                              capture_output=True, text=True, env=env, timeout=120,
                              check=False)
    result = await asyncio.to_thread(run)
    assert "Traceback" not in result.stderr, result.stderr
    return result


async def test_talosctl_version_prints_the_server_block(three: Cluster, tmp_path: Path) -> None:
    cfg = _talosconfig(tmp_path, three)
    r = await _talosctl(cfg, "version")
    assert r.returncode == 0, r.stderr
    assert "Client:" in r.stdout and "Server:" in r.stdout
    server = r.stdout.split("Server:")[1]
    assert "\tSHA:         127.0.0.2" in server and "NODE:" not in server


async def test_talosctl_version_one_block_per_node(three: Cluster, tmp_path: Path) -> None:
    cfg = _talosconfig(tmp_path, three, nodes=("127.0.0.3",))
    r = await _talosctl(cfg, "-n", "127.0.0.3,127.0.0.4", "version")
    assert r.returncode == 0, r.stderr
    server = r.stdout.split("Server:")[1]
    assert server.count("NODE:") == 2
    assert "\tNODE:        127.0.0.3" in server and "\tNODE:        127.0.0.4" in server
    # the context's default nodes are used without -n
    r = await _talosctl(cfg, "version", "--short")
    assert r.returncode == 0 and "Talos v1.10.0" in r.stdout


async def test_stale_talosconfig_names_endpoint_and_cause(three: Cluster, tmp_path: Path) -> None:
    cfg = _talosconfig(tmp_path, three, pki=new_pki())
    r = await _talosctl(cfg, "version")
    assert r.returncode != 0
    assert f"127.0.0.2:{three.port}" in r.stderr
    assert "unknown authority" in r.stderr and "stale" in r.stderr and "--insecure" in r.stderr


async def test_connection_refused_is_explained(tmp_path: Path, pki: Pki) -> None:
    port = free_port(["127.0.0.5"])
    ctx = Context.from_pems(endpoints=(f"127.0.0.5:{port}",), ca=pki.ca_pem,
                            client=pki.client("os:reader"))
    cfg = tmp_path / "talosconfig"
    Talosconfig(context="t", contexts={"t": ctx}).save(cfg)
    r = await _talosctl(cfg, "version")
    assert r.returncode != 0
    assert f"127.0.0.5:{port}: connection refused" in r.stderr


async def test_one_node_down_is_reported_by_version(pki: Pki, tmp_path: Path) -> None:
    async with cluster(HOSTS, pki=pki, apids=HOSTS[:2]) as c:
        cfg = _talosconfig(tmp_path, c)
        r = await _talosctl(cfg, "-n", ",".join(HOSTS), "version")
        assert r.returncode != 0
        assert "127.0.0.4:" in r.stderr
        assert "\tNODE:        127.0.0.3" in r.stdout


async def test_maintenance_mode_connection_skips_verification(tmp_path: Path) -> None:
    """--insecure: server TLS only, no client certificate, nothing to verify against."""
    ca = CertificateAuthority.generate(common_name="maintenance")
    pem = ca.to_pem()
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([Backend("maintenance")])
    port = server.add_secure_port("127.0.0.5:0", grpc.ssl_server_credentials([(pem.key,
                                                                               pem.crt)]))
    await server.start()
    try:
        opts = ConnectionOptions((f"127.0.0.5:{port}",), insecure=True)
        conn = await connect(opts)
        async with conn:
            stub = machine_pb2_grpc.MachineServiceStub(conn.channel)
            reply = await stub.Version(empty_pb2.Empty())
        assert reply.messages[0].version.sha == "maintenance"
    finally:
        await server.stop(0)


async def test_insecure_against_a_configured_node_suggests_dropping_it(one: Cluster) -> None:
    opts = ConnectionOptions((f"127.0.0.2:{one.port}",), insecure=True)
    conn = await connect(opts)
    async with conn:
        stub = machine_pb2_grpc.MachineServiceStub(conn.channel)
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await stub.Version(empty_pb2.Empty(), timeout=10)
        err = conn.explain(e.value)
    assert isinstance(err, TalosError)
    assert "drop --insecure" in str(err) and f"127.0.0.2:{one.port}" in str(err)


async def test_reader_role_error_is_permission_denied(one: Cluster, tmp_path: Path) -> None:
    opts = ConnectionOptions.from_context(
        Context.from_pems(endpoints=(f"127.0.0.2:{one.port}",), ca=one.pki.ca_pem,
                          client=one.pki.client("os:reader")))
    async with Connection(opts) as conn:
        stub = machine_pb2_grpc.MachineServiceStub(conn.channel)
        from talos.api.machine import machine_pb2
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await stub.Reboot(machine_pb2.RebootRequest(),
                              metadata=nodes_metadata(["127.0.0.2"]))
        err = conn.explain(e.value)
    assert err.code == "PERMISSION_DENIED" and "os:reader" in str(err)


def test_endpoint_targets_and_bad_input() -> None:
    assert endpoint_target("10.5.0.2") == "10.5.0.2:50000"
    assert endpoint_target("10.5.0.2:123") == "10.5.0.2:123"
    assert endpoint_target("fd00::1") == "[fd00::1]:50000"
    assert endpoint_target("[fd00::1]:7") == "[fd00::1]:7"
    with pytest.raises(InvalidArgument):
        endpoint_target("a b")
    with pytest.raises(InvalidArgument, match="no endpoints"):
        ConnectionOptions(()).check()
    with pytest.raises(InvalidArgument, match="--insecure"):
        ConnectionOptions(("10.5.0.2",)).check()
    with pytest.raises(Unavailable, match="connection refused"):
        from talos.machinery.client.connection import fetch_server_certificate
        fetch_server_certificate(f"127.0.0.5:{free_port(['127.0.0.5'])}")


async def test_connect_fails_over_to_a_reachable_endpoint(one: Cluster) -> None:
    dead = f"127.0.0.5:{free_port(['127.0.0.5'])}"
    opts = ConnectionOptions.from_context(
        Context.from_pems(endpoints=(dead, f"127.0.0.2:{one.port}"), ca=one.pki.ca_pem,
                          client=one.pki.client("os:reader")))
    async with await connect(opts) as conn:
        assert conn.endpoint == f"127.0.0.2:{one.port}"
        reply = await machine_pb2_grpc.MachineServiceStub(conn.channel).Version(
            empty_pb2.Empty())
    assert reply.messages[0].version.sha == "127.0.0.2"
