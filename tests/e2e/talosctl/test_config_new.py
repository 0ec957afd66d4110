"""`talosctl config new`: an admin issues a reader talosconfig from a real control plane
(machined holding the OS CA in machine.ca, behind a real apid); the reader config works for
reads and is refused changes, secrets and issuing configs of its own."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from talos.machinery.client.talosconfig import Talosconfig
from talos.machinery.pki import load_certificate, organizations_of
from tests.e2e.talosctl.conftest import E2ECluster, E2ENode
from tests.integration.apid.harness import free_port, new_pki

HOST = "127.0.0.6"
CONFIG = """version: v1alpha1
machine:
  type: controlplane
  ca:
    crt: {crt}
    key: {key}
  network:
    hostname: issuer
cluster:
  clusterName: demo
"""


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ECluster]:
    """One control plane whose machine.ca is the CA apid and the talosconfig use."""
    from talos.machinery.client.talosconfig import Context

    tmp = tmp_path_factory.mktemp("issuer")
    pki = new_pki()
    home = tmp / "home"
    home.mkdir()
    talosconfig = tmp / "admin-talosconfig"
    Talosconfig(context="admin", contexts={"admin": Context.from_pems(
        endpoints=(HOST,), nodes=(HOST,), ca=pki.ca_pem, client=pki.client("os:admin"))}
    ).save(talosconfig)
    c = E2ECluster(tmp, pki, free_port([HOST]), talosconfig, home)
    ca = pki.ca.to_pem()
    cfg = tmp / "config.yaml"
    cfg.write_text(CONFIG.format(crt=base64.b64encode(ca.crt).decode(),
                                 key=base64.b64encode(ca.key).decode()))
    node = E2ENode(HOST, "issuer", tmp / "root", cfg, tmp / "machined.log")
    c.nodes[HOST] = node
    try:
        c.start_machined(node)
        c.start_apid(node)
        yield c
    finally:
        c.close()


def endpoint_args(c: E2ECluster) -> tuple[str, ...]:
    return ("-e", c.endpoint(HOST))


def test_admin_issues_a_reader_config_that_reads_but_cannot_change(
        issuer: E2ECluster, tmp_path: Path) -> None:
    out = tmp_path / "reader-talosconfig"
    r = issuer.run(*endpoint_args(issuer), "config", "new", str(out), "--roles", "os:reader",
                   "--crt-ttl", "24h", endpoint=False)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    cfg = Talosconfig.load(out)
    assert cfg.context == "reader@demo"
    ctx = cfg.contexts["reader@demo"]
    assert ctx.endpoints == (issuer.endpoint(HOST),)
    cert = load_certificate(ctx.client.crt)
    assert organizations_of(cert) == ["os:reader"]
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert 23 * 3600 <= lifetime.total_seconds() <= 25 * 3600
    assert [line for line in os.listdir(tmp_path) if line.endswith(".tmp")] == []

    reader = issuer.env(TALOSCONFIG=str(out))
    r = issuer.run("version", env=reader, endpoint=False)
    assert r.returncode == 0, r.stderr
    assert "Tag:" in r.stdout.split("Server:")[1]

    r = issuer.run("apply-config", "--file", str(issuer.nodes[HOST].config), env=reader,
                   endpoint=False)
    assert r.returncode == 1
    assert "PermissionDenied" in r.stderr or "not authorized" in r.stderr, r.stderr

    r = issuer.run("get", "machineconfig", "-o", "yaml", env=reader, endpoint=False)
    assert r.returncode == 0, r.stderr
    assert base64.b64encode(issuer.pki.ca.to_pem().key).decode() not in r.stdout
    assert "******" in r.stdout

    r = issuer.run("get", "machineconfig", "--namespace", "secrets", env=reader,
                   endpoint=False)
    assert r.returncode == 1
    assert "readable only with os:admin" in r.stderr, r.stderr

    # a reader cannot mint configs (not even reader ones)
    r = issuer.run("config", "new", str(tmp_path / "escalated"), "--roles", "os:admin",
                   env=reader, endpoint=False)
    assert r.returncode == 1
    assert "not authorized" in r.stderr and "GenerateClientConfiguration" in r.stderr
    assert not (tmp_path / "escalated").exists()


def test_config_new_refuses_existing_files_and_unknown_roles(issuer: E2ECluster,
                                                             tmp_path: Path) -> None:
    existing = tmp_path / "talosconfig"
    existing.write_text("keep me\n")
    r = issuer.run(*endpoint_args(issuer), "config", "new", str(existing), endpoint=False)
    assert r.returncode == 1
    assert f"talosconfig file already exists: {str(existing)!r}" in r.stderr
    assert existing.read_text() == "keep me\n"

    r = issuer.run(*endpoint_args(issuer), "config", "new", str(tmp_path / "x"), "--roles",
                   "os:reader,os:root", endpoint=False)
    assert r.returncode == 1
    assert "unknown roles: os:root (valid roles: os:admin," in r.stderr and "os:reader" in r.stderr
    assert not (tmp_path / "x").exists()

    r = issuer.run(*endpoint_args(issuer), "-n", f"{HOST},127.0.0.7", "config", "new",
                   str(tmp_path / "y"), endpoint=False)
    assert r.returncode == 1
    assert "not supported with multiple nodes" in r.stderr

    # the default: os:admin, 87600h, ./talosconfig (cwd of issuer.run is the cluster's tmp)
    target = issuer.tmp / "talosconfig"
    if target.exists():
        target.unlink()
    r = issuer.run(*endpoint_args(issuer), "config", "new", endpoint=False)
    assert r.returncode == 0, r.stderr
    cfg = Talosconfig.load(target)
    assert cfg.context == "admin@demo"
    cert = load_certificate(cfg.contexts["admin@demo"].client.crt)
    assert organizations_of(cert) == ["os:admin"]
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days in (3649, 3650)
    target.unlink()


def test_generate_client_configuration_rejects_bad_requests(issuer: E2ECluster) -> None:
    import grpc

    from talos.api.machine import machine_pb2, machine_pb2_grpc

    admin = issuer.pki.client("os:admin")
    creds = grpc.ssl_channel_credentials(issuer.pki.ca_pem, admin.key, admin.crt)
    with grpc.secure_channel(issuer.endpoint(HOST), creds) as ch:
        api = machine_pb2_grpc.MachineServiceStub(ch)
        req = machine_pb2.GenerateClientConfigurationRequest(roles=["os:reader", "os:root"])
        req.crt_ttl.FromSeconds(3600)
        with pytest.raises(grpc.RpcError) as e:
            api.GenerateClientConfiguration(req, timeout=60)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert e.value.details().startswith("unknown roles: os:root (valid roles: os:admin, ")
        req = machine_pb2.GenerateClientConfigurationRequest(roles=["os:reader"])
        with pytest.raises(grpc.RpcError) as e:
            api.GenerateClientConfiguration(req, timeout=60)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "crt_ttl should be positive" in e.value.details()
        req.crt_ttl.FromSeconds(60)
        reply = api.GenerateClientConfiguration(req, timeout=60)
        msg = reply.messages[0]
        assert msg.ca == issuer.pki.ca_pem
        assert organizations_of(load_certificate(msg.crt)) == ["os:reader"]
        assert Talosconfig.from_yaml(msg.talosconfig).context == "reader@demo"
