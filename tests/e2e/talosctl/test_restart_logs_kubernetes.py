"""`talosctl restart [-k]`, `talosctl logs -k` and LogsContainers against real nodes.

In the `system` namespace the containers are machined's services: `restart` goes through
the supervisor (as `service ID restart`). In `k8s.io` they are containerd's: a real runc
container started with `ctr` gets SIGTERM; an id that is not there is NotFound naming the
id and the namespace. Every command runs with stdin /dev/null, as a script would.
"""

from __future__ import annotations

import os
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from tests.e2e.talosctl.conftest import HOSTS, E2ECluster
from tests.e2e.talosctl.test_containers_netstat import (
    CONTAINERS,
    _ctr_container,
    _machine,
    _running_services,
    poll,
    table,
)

HOST = HOSTS[0]


def _containerd_pid(e2e: E2ECluster) -> int:
    row = _running_services(e2e, HOST).get("containerd", {})
    return int(row["PID"]) if row.get("STATUS") == "RUNNING" else 0


def test_restart_restarts_a_service_of_the_system_namespace(e2e: E2ECluster) -> None:
    poll(lambda: _containerd_pid(e2e) != 0, "containerd RUNNING")
    before = _containerd_pid(e2e)
    r = e2e.run("-n", HOST, "restart", "containerd")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""  # upstream prints nothing
    poll(lambda: _containerd_pid(e2e) not in (0, before), "containerd running again")
    # the service's log records the supervisor stopping it
    r = e2e.run("-n", HOST, "logs", "containerd")
    assert r.returncode == 0, r.stderr
    assert "[talos] containerd: Stopping" in r.stdout, r.stdout[-2000:]


def test_restart_refuses_with_the_reason(e2e: E2ECluster) -> None:
    poll(lambda: _containerd_pid(e2e) != 0, "containerd RUNNING")
    r = e2e.run("-n", HOST, "restart", "machined")
    assert r.returncode == 1
    assert r.stderr.startswith("Error: error restarting process: "), r.stderr
    assert "PID 1" in r.stderr, r.stderr
    r = e2e.run("-n", HOST, "restart", "no-such-service")
    assert r.returncode == 1
    assert "container 'no-such-service' not found in namespace 'system'" in r.stderr, r.stderr
    r = e2e.run("-n", HOST, "restart", "-k", "no-such-pod")
    assert r.returncode == 1
    assert "container 'no-such-pod' not found in namespace 'k8s.io'" in r.stderr, r.stderr


def test_logs_kubernetes_names_the_missing_container(e2e: E2ECluster) -> None:
    poll(lambda: _containerd_pid(e2e) != 0, "containerd RUNNING")
    r = e2e.run("-n", HOST, "logs", "-k", "kube-system/kube-apiserver")
    assert r.returncode == 1
    assert "container 'kube-system/kube-apiserver' not found in namespace 'k8s.io'" \
        in r.stderr, r.stderr


def test_logs_containers_lists_machined_and_every_service(e2e: E2ECluster) -> None:
    with _machine(e2e) as api:
        reply = api.LogsContainers(empty_pb2.Empty(), timeout=30)
        services = api.ServiceList(empty_pb2.Empty(), timeout=30)
    ids = list(reply.messages[0].ids)
    assert ids == [s.id for s in services.messages[0].services]  # machined first, as listed
    assert {"machined", "apid", "containerd"} <= set(ids)
    # each one is readable with Logs
    with _machine(e2e) as api:
        for sid in ids:
            chunks = api.Logs(m.LogsRequest(namespace="system", id=sid, tail_lines=1),
                              timeout=30)
            list(chunks)


def test_restart_api_checks_its_request(e2e: E2ECluster) -> None:
    with _machine(e2e) as api:
        with pytest.raises(grpc.RpcError) as err:
            api.Restart(m.RestartRequest(namespace="system", id=""), timeout=30)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.RpcError) as err:
            api.Restart(m.RestartRequest(namespace="k8s.io", id="x",
                                         driver=common_pb2.CRI), timeout=30)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        assert err.value.details() == "container 'x' not found in namespace 'k8s.io'"


@pytest.mark.requires("root", "containerd", "ctr", "runc")
def test_restart_kubernetes_terminates_a_containerd_container(e2e: E2ECluster,
                                                              tmp_path: Path) -> None:
    poll(lambda: _containerd_pid(e2e) != 0, "containerd RUNNING")
    sock = str(e2e.nodes[HOST].root / "var/run/containerd/containerd.sock")
    cid = f"e2e-k8s-sleeper-{os.getpid()}"

    def row() -> dict[str, str]:
        r = e2e.run("-n", HOST, "containers", "-k")
        assert r.returncode == 0, r.stderr
        return {x["ID"]: x for x in table(r.stdout, CONTAINERS)}[cid]

    # PID 1 of its pid namespace: SIGTERM only ends it with a handler (as a real workload)
    with _ctr_container(sock, tmp_path / "rootfs", cid, "/usr/bin/sh", "-c",
                        "trap 'exit 0' TERM; while :; do sleep 1; done",
                        namespace="k8s.io"):
        assert row()["STATUS"] == "RUNNING"
        r = e2e.run("-n", HOST, "restart", "-k", cid)
        assert r.returncode == 0, r.stderr
        # no kubelet here to start it again: the task stops
        poll(lambda: row()["STATUS"] == "STOPPED", f"{cid} stopped after SIGTERM")
        r = e2e.run("-n", HOST, "restart", "-k", cid)
        assert r.returncode == 1
        assert f"container '{cid}' in namespace 'k8s.io' is not running" in r.stderr, \
            r.stderr
        r = e2e.run("-n", HOST, "logs", "-k", cid)
        assert r.returncode == 1
        assert "not readable on this node yet" in r.stderr, r.stderr
