"""A node without a config in maintenance mode (machined --maintenance-listen): talosctl
says to use --insecure, and `apply-config --insecure` configures the node."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.empty_pb2 import Empty

from talos.api.machine import machine_pb2_grpc
from tests.e2e.talosctl.conftest import E2ECluster, stop_process
from tests.integration.apid.harness import free_port

HOST = "127.0.0.5"
CONFIG = """version: v1alpha1
machine:
  type: worker
{extras}  network:
    hostname: fresh-node
cluster:
  clusterName: e2e
  controlPlane:
    endpoint: https://127.0.0.1:6443
"""


def _start_maintenance(tmp_path: Path, port: int) -> Iterator[str]:
    log = open(tmp_path / "machined.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "talos", "machined", "--root",
                             str(tmp_path / "root"), "--maintenance-listen", f"{HOST}:{port}"],
                            stdout=log, stderr=log)
    try:
        import socket
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"machined exited: {(tmp_path / 'machined.log').read_text()}")
            try:
                with socket.create_connection((HOST, port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        yield f"{HOST}:{port}"
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture
def maintenance_node(tmp_path: Path) -> Iterator[str]:
    yield from _start_maintenance(tmp_path, free_port([HOST]))


@pytest.fixture
def proxied_maintenance_node(e2e: E2ECluster, tmp_path: Path) -> Iterator[str]:
    """A maintenance-mode node on the e2e apids' port: `-n` through an endpoint reaches it."""
    yield from _start_maintenance(tmp_path, e2e.port)


def test_maintenance_mode_needs_insecure_and_takes_a_config(e2e: E2ECluster,
                                                            maintenance_node: str,
                                                            tmp_path: Path) -> None:
    ep = ("-e", maintenance_node)
    r = e2e.run(*ep, "version", endpoint=False)
    assert r.returncode == 1
    assert "TLS handshake failed" in r.stderr
    assert "maintenance mode), use --insecure" in r.stderr
    r = e2e.run(*ep, "--insecure", "version", endpoint=False)
    assert r.returncode == 0, r.stderr
    assert "Server:" in r.stdout and "Tag:" in r.stdout.split("Server:")[1]
    r = e2e.run(*ep, "--insecure", "services", endpoint=False)
    assert r.returncode == 1
    assert r.stderr.startswith("Error: ") and "maintenance" in r.stderr.lower()
    cfg = tmp_path / "worker.yaml"
    cfg.write_text(CONFIG.format(extras=e2e.machine_extras()))
    r = e2e.run(*ep, "apply-config", "--insecure", "-f", str(cfg), "--dry-run",
                endpoint=False)
    assert r.returncode == 0, r.stderr
    r = e2e.run(*ep, "apply-config", "--insecure", "-f", str(cfg), "--yes", endpoint=False)
    assert r.returncode == 0, r.stderr
    assert "Applied configuration" in r.stdout or "applied" in r.stdout.lower(), r.stdout


def test_insecure_with_nodes_talks_to_the_node_without_a_talosconfig(
        e2e: E2ECluster, maintenance_node: str, tmp_path: Path) -> None:
    """As Talos: `apply-config --insecure -n NODE` reaches NODE itself (not the context's
    endpoint) and needs no talosconfig at all."""
    from talos.machinery.config.generate import GenerateOptions, generate
    cfg = tmp_path / "worker.yaml"
    cfg.write_text(generate(GenerateOptions("e2e", "https://127.0.0.1:6443")).worker)
    # the context's endpoint is a configured node: it must not be the one reached
    r = e2e.run("apply-config", "--insecure", "-n", maintenance_node, "-f", str(cfg),
                "--dry-run", endpoint=False)
    assert r.returncode == 0, r.stderr
    assert "Dry run summary:" in r.stdout or "dry run" in r.stdout.lower(), r.stdout
    assert e2e.endpoint() not in r.stderr
    # no talosconfig anywhere: an empty HOME, no TALOSCONFIG
    home = tmp_path / "empty-home"
    home.mkdir()
    env = {k: v for k, v in e2e.env().items() if k != "TALOSCONFIG"}
    env["HOME"] = str(home)
    r = e2e.run("-n", maintenance_node, "--insecure", "version", endpoint=False, env=env)
    assert r.returncode == 0, r.stderr
    assert "Server:" in r.stdout
    r = e2e.run("apply-config", "--insecure", "-n", maintenance_node, "-f", str(cfg),
                endpoint=False, env=env)
    assert r.returncode == 0, r.stderr
    assert "applied" in r.stdout.lower(), r.stdout
    assert not (home / ".talos").exists()
    # without -n there is nothing to reach: say so (no talosconfig to take endpoints from)
    r = e2e.run("apply-config", "--insecure", "-f", str(cfg), endpoint=False, env=env)
    assert r.returncode == 1
    assert "--insecure (a node in maintenance mode) needs the node: -n <node address>" \
        in r.stderr, r.stderr


def test_reset_insecure_reaches_the_maintenance_service(e2e: E2ECluster,
                                                        maintenance_node: str) -> None:
    ep = ("-e", maintenance_node)
    # Talos's `reset --insecure`; this node's maintenance service does not serve Reset and
    # says so in one line (no traceback, no tracking of a stream that does not exist)
    r = e2e.run(*ep, "reset", "--insecure", "--graceful=false", endpoint=False)
    assert r.returncode == 1
    assert r.stderr.startswith("Error: "), r.stderr
    assert "maintenance mode: Reset is not available" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = e2e.run(*ep, "--insecure", "version", endpoint=False)
    assert r.returncode == 0, r.stderr


def _openssl_fingerprint(endpoint: str) -> str:
    """The server's SPKI fingerprint computed by openssl, independently of our code."""
    pem = subprocess.run(["openssl", "s_client", "-connect", endpoint, "-alpn", "h2"],
                         input=b"", capture_output=True, check=True, timeout=60).stdout
    der = subprocess.run("openssl x509 -pubkey -noout | openssl pkey -pubin -outform der",
                         shell=True, input=pem, capture_output=True, check=True,
                         timeout=60).stdout
    import base64
    import hashlib
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def test_cert_fingerprint_pins_the_maintenance_node(e2e: E2ECluster, maintenance_node: str,
                                                    tmp_path: Path) -> None:
    fingerprint = _openssl_fingerprint(maintenance_node)
    # machined names it in its log, for the operator to compare
    log = (tmp_path / "machined.log").read_text()
    assert f"server certificate fingerprint {fingerprint}" in log
    cfg = tmp_path / "worker.yaml"
    cfg.write_text(CONFIG.format(extras=e2e.machine_extras()))
    ep = ("-e", maintenance_node)
    other = "A" * 43 + "="
    r = e2e.run(*ep, "apply-config", "--insecure", "--cert-fingerprint", other, "-f",
                str(cfg), "--dry-run", endpoint=False)
    assert r.returncode == 1
    assert f"certificate fingerprint {fingerprint} is not one of --cert-fingerprint " \
           f"{other}" in r.stderr, r.stderr
    r = e2e.run(*ep, "apply-config", "--insecure", "--cert-fingerprint", other,
                "--cert-fingerprint", fingerprint, "-f", str(cfg), "--dry-run",
                endpoint=False)
    assert r.returncode == 0, r.stderr
    r = e2e.run(*ep, "apply-config", "--insecure", "--cert-fingerprint", "nope", "-f",
                str(cfg), "--dry-run", endpoint=False)
    assert r.returncode == 1
    assert "certificate fingerprint 'nope': expected the base64 of a SHA-256" in r.stderr
    r = e2e.run("apply-config", "--cert-fingerprint", fingerprint, "-f", str(cfg),
                "-n", "127.0.0.2", "--dry-run")
    assert r.returncode == 1
    assert "use it with --insecure" in r.stderr


def test_maintenance_node_through_an_endpoint_says_use_insecure_directly(
        e2e: E2ECluster, proxied_maintenance_node: str) -> None:
    """`-n <maintenance node>` through a configured endpoint (apid's proxy cannot verify the
    node's self-signed certificate): say the node is in maintenance mode and how to reach it,
    not "CERTIFICATE_VERIFY_FAILED: self signed certificate"."""
    for args in (("-n", HOST, "version"), ("-n", f"{HOST},127.0.0.2", "version"),
                 ("-n", HOST, "services"), ("-n", HOST, "logs", "machined"),
                 ("-n", HOST, "get", "members")):
        r = e2e.run(*args)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert f"{HOST} is in maintenance mode" in r.stderr, (args, r.stderr)
        assert f"--insecure -n {HOST}" in r.stderr, (args, r.stderr)
        assert "CERTIFICATE_VERIFY_FAILED" not in r.stderr, (args, r.stderr)


def test_apid_itself_says_a_proxied_node_is_in_maintenance_mode(
        e2e: E2ECluster, proxied_maintenance_node: str) -> None:
    """What a stock client (no hint of ours on its side) reads from apid: the reason in the
    gRPC status of a one-node call and in metadata.error of a fanned-out reply."""
    client = e2e.pki.client("os:admin")
    creds = grpc.ssl_channel_credentials(e2e.pki.ca_pem, client.key, client.crt)
    with grpc.secure_channel(e2e.endpoint(), creds) as ch:
        stub = machine_pb2_grpc.MachineServiceStub(ch)
        # apid's channel to HOST may still hold "connection refused" from an earlier test's
        # node at this address (gRPC reconnects within its 1 s backoff): ask until it is
        # this node that answers
        details = ""
        for _ in range(100):
            with pytest.raises(grpc.RpcError) as err:
                stub.Version(Empty(), metadata=(("node", HOST),), timeout=30)
            details = err.value.details() or ""
            if "Connection refused" not in details:
                break
            time.sleep(0.1)
        assert f"node {HOST} is in maintenance mode" in details
        assert "CERTIFICATE_VERIFY_FAILED" not in details
        reply = stub.Version(Empty(), metadata=(("nodes", f"{HOST},127.0.0.2"),),
                             timeout=30)
        errors = {msg.metadata.hostname: msg.metadata.error for msg in reply.messages}
        assert f"node {HOST} is in maintenance mode" in errors[HOST], errors


@pytest.fixture
def maintenance_node_with_meta(tmp_path: Path) -> Iterator[str]:
    """A maintenance-mode node whose STATE already holds META (as after an installer wrote
    it): key 0x0a."""
    state = tmp_path / "root" / "system" / "state"
    state.mkdir(parents=True)
    (state / "meta.json").write_text('{"0x0a": "aW5zdGFsbGVk"}\n')  # b"installed"
    yield from _start_maintenance(tmp_path, free_port([HOST]))


def test_maintenance_lists_meta_keys_and_refuses_writes_naming_why(
        e2e: E2ECluster, maintenance_node_with_meta: str) -> None:
    """As upstream v1.13.9: a maintenance client is a reader (reads runtime resources such as
    the META keys); only a SideroLink peer may write META, and this node has none."""
    ep = ("-n", maintenance_node_with_meta)
    r = e2e.run(*ep, "--insecure", "get", "meta", endpoint=False)
    assert r.returncode == 0, r.stderr
    row = r.stdout.splitlines()[1].split()
    assert row[-5:] == ["runtime", "MetaKey", "0x0a", "1", "installed"], r.stdout
    for args in (("write", "0x0b", "x"), ("delete", "0x0a")):
        r = e2e.run(*ep, "meta", "--insecure", *args, endpoint=False)
        assert r.returncode == 1
        assert "maintenance mode" in r.stderr and "SideroLink" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = e2e.run(*ep, "--insecure", "get", "meta", endpoint=False)
    assert r.stdout.splitlines()[1].split()[-3:] == ["0x0a", "1", "installed"], r.stdout
