"""How containerd's containers and tasks become `talosctl containers` rows."""

from __future__ import annotations

import os

import pytest

from talos.api.common import common_pb2
from talos.api.containerd.services.containers.v1 import containers_pb2
from talos.api.containerd.types.task import task_pb2
from talos.machined.server import containers as c
from talos.machinery.errors import InvalidArgument


def test_tasks_join_containers_and_pods_group_their_containers() -> None:
    labels = {c.POD_NAMESPACE_LABEL: "kube-system", c.POD_NAME_LABEL: "coredns-1",
              c.CONTAINER_NAME_LABEL: "coredns"}
    conts = [containers_pb2.Container(id="abc", image="registry.k8s.io/coredns:v1",
                                      labels=labels),
             containers_pb2.Container(id="idle", image="busybox")]
    # containerd 1.6 names a task's init process by `id`; newer ones fill container_id
    tasks = [task_pb2.Process(id="abc", pid=42, status=task_pb2.RUNNING)]
    rows = c._from_containerd("k8s.io", conts, tasks)
    assert rows[0] == c.Entry(namespace="k8s.io", id="abc",
                              image="registry.k8s.io/coredns:v1", pid=42, status="RUNNING",
                              pod_id="kube-system/coredns-1", name="coredns")
    assert rows[1] == c.Entry(namespace="k8s.io", id="idle", image="busybox", pid=0,
                              status="STOPPED", pod_id="idle", name="idle")
    stopped = [task_pb2.Process(container_id="abc", id="abc", pid=42,
                                status=task_pb2.STOPPED)]
    row = c._from_containerd("k8s.io", conts[:1], stopped)[0]
    assert (row.pid, row.status) == (0, "STOPPED")


def test_namespace_defaults_and_validation() -> None:
    assert c.resolve_namespace("", common_pb2.CONTAINERD) == "system"
    assert c.resolve_namespace("", common_pb2.CRI) == "k8s.io"
    assert c.resolve_namespace("k8s.io", common_pb2.CONTAINERD) == "k8s.io"
    with pytest.raises(InvalidArgument, match="namespace: '-x' is not a containerd namespace"):
        c.resolve_namespace("-x", common_pb2.CONTAINERD)
    with pytest.raises(InvalidArgument, match="driver: unknown container driver 5"):
        c.resolve_namespace("system", 5)


def test_stats_skip_entries_without_a_live_process() -> None:
    live = c.Entry("system", "me", "python", os.getpid(), "RUNNING", "me", "me")
    idle = c.Entry("system", "idle", "x", 0, "STOPPED", "idle", "idle")
    [st] = c.stats([live, idle])
    assert st.id == "me" and st.memory_usage > 0 and st.cpu_usage > 0
