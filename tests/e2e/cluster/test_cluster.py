"""`talosctl cluster create | show | destroy` and `talosctl health` on real sandboxed nodes."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from pyroute2 import IPRoute

from talos.api.machine import machine_pb2, machine_pb2_grpc
from talos.machinery.client.connection import ConnectionOptions, connect, node_metadata
from talos.machinery.client.talosconfig import Talosconfig
from talos.provision import network
from talos.provision.destroy import node_processes
from tests.e2e.cluster.conftest import Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.root]

MakeCluster = Callable[[str], Cluster]


def _ok(res: subprocess.CompletedProcess[str]) -> None:
    errors = [line for line in res.stderr.splitlines() if "error" in line.lower()
              and not line.startswith("20")]
    assert res.returncode == 0, (errors, res.stdout, res.stderr[-3000:])


def test_create_1_plus_1_is_healthy_shown_and_destroyed_without_leftovers(
        make_cluster: MakeCluster) -> None:
    c = make_cluster("e2e-one")
    res = c.create()
    _ok(res)
    base = c.cidr.rsplit(".", 1)[0]
    cp, worker = f"{base}.2", f"{base}.3"
    assert f"{c.name}-controlplane-1" in res.stdout and f"{c.name}-worker-1" in res.stdout
    assert cp in res.stdout and worker in res.stdout
    assert "Kubernetes components" in res.stdout and "not started" in res.stdout
    assert "etcd bootstrapped on" in res.stderr
    assert "waiting for etcd members to be consistent across nodes: OK" in res.stderr
    assert "SKIPPED (skipped: Kubernetes not available on this node)" in res.stderr

    state = json.loads((c.directory / "state.json").read_text())
    assert state["status"] == "running"
    assert [(n["name"], n["role"], n["address"]) for n in state["nodes"]] == [
        (f"{c.name}-controlplane-1", "controlplane", cp), (f"{c.name}-worker-1", "worker", worker)]
    for n in state["nodes"]:
        assert (c.directory / n["name"] / "state" / "config.yaml").exists()
        assert (c.directory / n["name"] / "ephemeral").is_dir()

    cfg = Talosconfig.load(c.talosconfig)
    assert cfg.context == c.name
    assert cfg.get().endpoints == (cp,)

    health = c.talosctl("health", "--control-plane-nodes", cp, "--worker-nodes", worker,
                        "--wait-timeout", "60s")
    _ok(health)
    assert "waiting for all nodes to report the role they were created with: OK" in \
        health.stderr
    assert "kubelet to be healthy: SKIPPED" in health.stderr

    server = c.talosctl("health", "--server", "--control-plane-nodes", cp, "--worker-nodes",
                        worker, "--wait-timeout", "60s")
    _ok(server)
    assert "waiting for etcd members to be consistent across nodes: OK" in server.stderr

    missing = f"{base}.200"  # no node there: the timeout names the check, node and cause
    for extra in ((), ("--server",)):
        late = c.talosctl("health", *extra, "--control-plane-nodes", cp, "--worker-nodes",
                          missing, "--wait-timeout", "1.5s")
        assert late.returncode == 1
        assert "timed out after 1.5s waiting for apid to be ready on all nodes" in late.stderr
        assert missing in late.stderr and "Traceback" not in late.stderr

    show = c.talosctl("cluster", "show", "--name", c.name, "--state", str(c.state))
    _ok(show)
    assert f"{c.name}-worker-1" in show.stdout and "running" in show.stdout
    assert "machined.log" in show.stdout

    again = c.create()
    assert again.returncode == 1
    assert "already exists" in again.stderr and "Traceback" not in again.stderr

    gone = c.talosctl("cluster", "destroy", "--name", c.name, "--state", str(c.state))
    _ok(gone)
    assert f"destroyed cluster '{c.name}'" in gone.stdout
    assert "2 node(s) stopped gracefully" in gone.stdout
    assert c.leftovers() == []
    twice = c.talosctl("cluster", "destroy", "--name", c.name, "--state", str(c.state))
    _ok(twice)
    assert "nothing to destroy" in twice.stdout


def test_overlapping_cidr_is_refused_before_anything_is_created(
        make_cluster: MakeCluster) -> None:
    c = make_cluster("e2e-overlap")
    link = f"tvovl{os.getpid()}"  # a link this test makes and removes (one per test run)
    with IPRoute() as ipr:
        ipr.link("add", ifname=link, kind="bridge")
        try:
            idx = ipr.link_lookup(ifname=link)[0]
            ipr.addr("add", index=idx, address=c.cidr.rsplit(".", 1)[0] + ".77",
                     prefixlen=24)
            res = c.create()
        finally:
            ipr.link("del", index=ipr.link_lookup(ifname=link)[0])
    assert res.returncode == 1
    assert f"--cidr {c.cidr} overlaps" in res.stderr
    assert f"on link {link}" in res.stderr
    alt = res.stderr.split("try --cidr ")[1].split()[0]
    assert not ipaddress.IPv4Network(alt).overlaps(ipaddress.IPv4Network(c.cidr))
    assert not c.directory.exists()
    assert not network.link_exists(network.bridge_name(c.name))


def test_bad_flags_are_named(make_cluster: MakeCluster) -> None:
    c = make_cluster("e2e-flags")
    for args, expected in ((("--cidr", "10.213.0.1/24"), "has host bits set"),
                           (("--controlplanes", "0"), "at least one control plane"),
                           (("--wait-timeout", "soon"), "invalid duration")):
        res = c.talosctl("cluster", "create", "--name", c.name, "--state", str(c.state),
                         *args)
        assert res.returncode != 0
        assert expected in res.stderr and "Traceback" not in res.stderr
        assert not c.directory.exists()


def test_failed_create_cleans_up_and_names_the_step(make_cluster: MakeCluster) -> None:
    c = make_cluster("e2e-fail")
    res = c.create("--wait-timeout", "0.3s")
    assert res.returncode == 1
    assert "cluster create failed at step" in res.stderr
    assert "Traceback" not in res.stderr
    assert "0.3s" in res.stderr  # the deadline given, in the reason
    assert f"--- last lines of {c.name}-controlplane-1's log ---" in res.stderr
    assert c.leftovers() == []


async def _call(c: Cluster, node: str, method: str, request: object) -> None:
    ctx = Talosconfig.load(c.talosconfig).get()
    conn = await connect(ConnectionOptions.from_context(ctx))
    try:
        stub = machine_pb2_grpc.MachineServiceStub(conn.channel)
        await getattr(stub, method)(request, metadata=node_metadata(node), timeout=10)
    finally:
        await conn.close()


def test_3_plus_1_joins_etcd_a_rebooted_and_a_reset_worker_come_back(
        make_cluster: MakeCluster) -> None:
    c = make_cluster("e2e-three")
    res = c.create("--controlplanes", "3", "--workers", "1", "--wait-timeout", "120s")
    _ok(res)
    assert "3 member(s) on every control plane" in res.stderr
    record = c.record()
    assert [n.role for n in record.nodes] == ["controlplane"] * 3 + ["worker"]
    worker = record.workers[0]

    asyncio.run(_call(c, worker.address, "Reboot", machine_pb2.RebootRequest()))
    log = c.directory / worker.name / "machined.log"
    deadline = time.monotonic() + 60
    while "re-executed in place (reboot #1)" not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "the worker did not reboot"
        time.sleep(0.1)
    health = c.talosctl("health", "--control-plane-nodes",
                        ",".join(n.address for n in record.controlplanes),
                        "--worker-nodes", worker.address, "--wait-timeout", "60s")
    _ok(health)
    # rebooted in place: machined re-executed itself, same pid, same namespaces
    assert worker.pid in {p.pid for p in node_processes(str(c.directory))}

    # reset the worker (STATE and EPHEMERAL wiped): back in maintenance mode; re-apply its
    # config over the insecure maintenance API and the cluster is healthy again
    config = c.directory / worker.name / "state" / "config.yaml"
    saved = c.state.parent / "worker.yaml"
    saved.write_bytes(config.read_bytes())
    asyncio.run(_call(c, worker.address, "Reset",
                      machine_pb2.ResetRequest(graceful=True, reboot=True)))
    deadline = time.monotonic() + 60
    while "node is in maintenance mode" not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "the worker did not come back in maintenance mode"
        time.sleep(0.1)
    assert not config.exists()
    applied = c.talosctl("-e", worker.address, "-n", worker.address, "apply-config",
                         "--insecure", "-y", "-f", str(saved))
    _ok(applied)
    health = c.talosctl("health", "--control-plane-nodes",
                        ",".join(n.address for n in record.controlplanes),
                        "--worker-nodes", worker.address, "--wait-timeout", "60s")
    _ok(health)
    assert config.read_bytes() == saved.read_bytes()



def test_destroy_cleans_up_after_a_crashed_create_without_state_file(
        make_cluster: MakeCluster) -> None:
    c = make_cluster("e2e-crash")
    proc = subprocess.Popen(
        [sys.executable, "-m", "talos", "talosctl", "cluster", "create", "--name", c.name,
         "--cidr", c.cidr, "--state", str(c.state), "--skip-kubeconfig"],
        env=c.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:  # crash it once both nodes are launched (bridge, veths, processes exist)
            assert time.monotonic() < deadline, "the nodes were never launched"
            try:
                if all(n.pid and n.veth for n in c.record().nodes):
                    break
            except Exception:
                pass
            time.sleep(0.01)
        c.remember_namespaces()
        proc.kill()
    finally:
        proc.wait()
    (c.directory / "state.json").unlink()
    assert c.leftovers()  # debris: processes, namespaces, links, directory
    gone = c.talosctl("cluster", "destroy", "--name", c.name, "--state", str(c.state))
    _ok(gone)
    assert f"destroyed cluster '{c.name}'" in gone.stdout
    assert c.leftovers() == []


def test_quickstart_and_daily_commands_run_unattended(make_cluster: MakeCluster) -> None:
    """The upstream quickstart (`cluster create`, then the commands its docs show next) as a
    script runs them: stdin /dev/null, no question, no traceback, upstream's exit codes."""
    c = make_cluster("e2e-quick")
    _ok(c.create())
    base = c.cidr.rsplit(".", 1)[0]
    cp, worker = f"{base}.2", f"{base}.3"
    for args in (("-n", cp, "version"), ("-n", f"{cp},{worker}", "services"),
                 ("-n", cp, "get", "members"), ("-n", cp, "get", "addresses"),
                 ("-n", cp, "etcd", "members"), ("-n", cp, "logs", "machined", "--tail", "5"),
                 ("-n", worker, "containers"), ("-n", cp, "health", "--wait-timeout", "60s"),
                 ("-n", worker, "patch", "machineconfig", "--mode", "no-reboot",
                  "-p", '[{"op": "add", "path": "/machine/nodeLabels", "value": {"q": "1"}}]'),
                 ("-n", worker, "get", "machineconfig", "-o", "jsonpath={.spec}"),
                 ("-n", worker, "reboot", "--wait", "--timeout", "2m")):
        _ok(c.talosctl(*args))
    unknown = c.talosctl("-n", cp, "get", "no-such-type")
    assert unknown.returncode == 1 and "no-such-type" in unknown.stderr
    gone = c.talosctl("cluster", "destroy", "--name", c.name, "--state", str(c.state))
    _ok(gone)
