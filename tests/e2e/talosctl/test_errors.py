"""Connection errors name the endpoint and the likely cause; never a traceback."""

from __future__ import annotations

from pathlib import Path

from talos.machinery.client.talosconfig import Context, Talosconfig
from tests.e2e.talosctl.conftest import HOSTS, E2ECluster
from tests.integration.apid.harness import new_pki


def test_stale_talosconfig_says_wrong_ca(e2e: E2ECluster, tmp_path: Path) -> None:
    other = new_pki()
    stale = tmp_path / "stale"
    Talosconfig(context="old", contexts={"old": Context.from_pems(
        endpoints=(e2e.endpoint(),), ca=other.ca_pem, client=other.client("os:admin"))}
    ).save(stale)
    r = e2e.run("services", env=e2e.env(TALOSCONFIG=str(stale)), endpoint=False)
    assert r.returncode == 1
    assert r.stderr.startswith(f"Error: {e2e.endpoint()}: TLS handshake failed: the node's "
                               "certificate is not signed by the CA in your talosconfig")
    assert "The talosconfig is probably stale" in r.stderr
    assert "Handshake failed with error" not in r.stderr  # no gRPC core log noise
    assert r.stderr.count("\n") == 1


def test_expired_client_certificate_says_expired_and_when(e2e: E2ECluster,
                                                         tmp_path: Path) -> None:
    import datetime as dt
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    crt = e2e.pki.client("os:admin", ttl=dt.timedelta(hours=1), now=issued)
    expired = tmp_path / "expired"
    Talosconfig(context="e2e", contexts={"e2e": Context.from_pems(
        endpoints=(e2e.endpoint(),), ca=e2e.pki.ca_pem, client=crt)}).save(expired)
    r = e2e.run("services", env=e2e.env(TALOSCONFIG=str(expired)), endpoint=False)
    assert r.returncode == 1
    when = (issued + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert r.stderr.startswith(f"Error: {e2e.endpoint()}: TLS handshake failed: the client "
                               f"certificate in your talosconfig expired at {when}"), r.stderr
    assert "ago), so the node refuses it; get a new one" in r.stderr
    assert "not signed by the CA" not in r.stderr and "stale" not in r.stderr
    assert r.stderr.count("\n") == 1


def test_insecure_against_a_configured_node(e2e: E2ECluster) -> None:
    r = e2e.run("--insecure", "version")
    assert r.returncode == 1
    assert "the node is probably configured already: drop --insecure" in r.stderr


def test_refused_unroutable_and_unknown_nodes(e2e: E2ECluster) -> None:
    r = e2e.run("-e", f"{HOSTS[0]}:1", "services", endpoint=False)
    assert r.returncode == 1
    assert r.stderr.startswith(f"Error: {HOSTS[0]}:1: connection refused: is the node up and "
                               "its API listening there?")
    r = e2e.run("-n", "127.0.0.9", "services")
    assert r.returncode == 1
    assert "127.0.0.9: " in r.stderr and "Connection refused" in r.stderr
    assert "the endpoint could not reach this node's API" in r.stderr
    r = e2e.run("-n", "nonexistent.invalid", "version")
    assert r.returncode == 1
    assert "the endpoint cannot resolve this node name" in r.stderr
    # one bad node does not hide the good one's answer
    r = e2e.run("-n", f"{HOSTS[0]},127.0.0.9", "memory")
    assert r.returncode == 1
    assert r.stdout.splitlines()[1].split()[0] == HOSTS[0]
    assert "127.0.0.9: " in r.stderr


def test_missing_talosconfig_and_endpoints(e2e: E2ECluster, tmp_path: Path) -> None:
    env = e2e.env(TALOSCONFIG=str(tmp_path / "none"))
    r = e2e.run("services", env=env, endpoint=False)
    assert r.returncode == 1
    assert r.stderr.startswith(f"Error: talosconfig '{tmp_path / 'none'}' does not exist: "
                               "pass --talosconfig <file>")
    empty = tmp_path / "empty"
    Talosconfig(context="e", contexts={"e": Context()}).save(empty)
    r = e2e.run("services", env=e2e.env(TALOSCONFIG=str(empty)), endpoint=False)
    assert r.returncode == 1
    assert "no endpoints: set them in the talosconfig context" in r.stderr
