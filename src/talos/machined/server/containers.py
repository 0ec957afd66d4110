"""Containers and Stats: what runs on the node, as `talosctl containers` / `stats` show it.

Two sources, merged into one list per namespace:

- **containerd** (the node's real containerd, `services/containerd.py`), asked over its unix
  socket with containerd's own gRPC API (`Containers.List` + `Tasks.List`, minimal stubs in
  `proto/containerd/`; the namespace travels in `containerd-namespace` metadata). We chose
  the gRPC route over running `ctr`: one call per listing, no process per request, and
  structured answers.
- **machined's services** in the `system` namespace. In Talos, system services (apid,
  trustd, etcd, …) are containers in containerd's `system` namespace, so `talosctl
  containers` lists them; here they are processes supervised by machined, so each service
  that runs a process is listed as an entry of the `system` namespace: ID = service id,
  IMAGE = the executable it runs, PID, STATUS RUNNING/STOPPED. Skipped services (no
  process) are not listed.

Stats are per entry: memory = resident memory of the entry's process and all its
descendants (bytes), CPU = their user+system CPU time in nanoseconds (cumulative, as the
cgroup `cpuacct.usage` that Talos reports). Entries without a running process have no stats
(Talos skips containers without metrics too).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass

import grpc
import psutil

from talos.api.common import common_pb2
from talos.api.containerd.services.containers.v1 import containers_pb2, containers_pb2_grpc
from talos.api.containerd.services.tasks.v1 import tasks_pb2, tasks_pb2_grpc
from talos.api.containerd.types.task import task_pb2
from talos.api.machine import machine_pb2 as m
from talos.machined.server.context import NodeAPI
from talos.machined.services.containerd import socket_path
from talos.machinery.errors import FailedPrecondition, InvalidArgument, NotFound

log = logging.getLogger(__name__)

SYSTEM_NAMESPACE = "system"
K8S_NAMESPACE = "k8s.io"
CONTAINERD_TIMEOUT = 10.0
# labels the CRI plugin puts on what it creates in k8s.io
POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
POD_NAME_LABEL = "io.kubernetes.pod.name"
CONTAINER_NAME_LABEL = "io.kubernetes.container.name"


@dataclass(frozen=True)
class Entry:
    namespace: str
    id: str
    image: str
    pid: int
    status: str
    pod_id: str
    name: str

    def info(self) -> m.ContainerInfo:
        return m.ContainerInfo(namespace=self.namespace, id=self.id, image=self.image,
                               pid=self.pid, status=self.status, pod_id=self.pod_id,
                               name=self.name)


def resolve_namespace(ns: str, driver: int) -> str:
    """The containerd namespace a request names (its driver's default when empty)."""
    if driver not in common_pb2.ContainerDriver.values():
        raise InvalidArgument(f"driver: unknown container driver {driver} "
                              "(expected CONTAINERD or CRI)")
    ns = ns or (K8S_NAMESPACE if driver == common_pb2.CRI else SYSTEM_NAMESPACE)
    # containerd namespaces are labels: letters, digits, '.', '_', '-'
    if not all(c.isalnum() or c in "._-" for c in ns) or not ns[0].isalnum():
        raise InvalidArgument(f"namespace: {ns!r} is not a containerd namespace name "
                              f"(e.g. {SYSTEM_NAMESPACE!r} or {K8S_NAMESPACE!r})")
    return ns


# -- containerd -------------------------------------------------------------------------------

def _from_containerd(ns: str, containers: Iterable[containers_pb2.Container],
                     tasks: Iterable[task_pb2.Process]) -> list[Entry]:
    # Tasks.List names each task's init process by `id` (= container id); newer
    # containerd versions fill `container_id` too
    by_id = {t.container_id or t.id: t for t in tasks}
    out = []
    for c in containers:
        task = by_id.get(c.id)
        running = task is not None and task.status in (task_pb2.RUNNING, task_pb2.PAUSED,
                                                       task_pb2.PAUSING)
        status = task_pb2.Status.Name(task.status) if task is not None else "STOPPED"
        pod = c.labels.get(POD_NAME_LABEL)
        pod_id = (f"{c.labels.get(POD_NAMESPACE_LABEL, '')}/{pod}" if pod else c.id)
        out.append(Entry(namespace=ns, id=c.id, image=c.image,
                         pid=task.pid if task is not None and running else 0,
                         status=status, pod_id=pod_id,
                         name=c.labels.get(CONTAINER_NAME_LABEL, c.id)))
    return out


async def containerd_entries(socket: str, ns: str) -> list[Entry]:
    """Containers and their tasks in containerd namespace `ns`.

    FailedPrecondition when containerd is down (not Unavailable: apid reads that as
    "machined is unreachable")."""
    if not await asyncio.to_thread(os.path.exists, socket):
        raise FailedPrecondition(f"containerd is not running on this node (no socket at {socket})")
    md = (("containerd-namespace", ns),)
    async with grpc.aio.insecure_channel(f"unix:{socket}") as ch:
        cs = containers_pb2_grpc.ContainersStub(ch)
        ts = tasks_pb2_grpc.TasksStub(ch)
        try:
            containers = await cs.List(containers_pb2.ListContainersRequest(), metadata=md,
                                       timeout=CONTAINERD_TIMEOUT)
            tasks = await ts.List(tasks_pb2.ListTasksRequest(), metadata=md,
                                  timeout=CONTAINERD_TIMEOUT)
        except grpc.aio.AioRpcError as e:
            raise FailedPrecondition(f"containerd at {socket}: {e.code().name}: "
                                     f"{e.details()}") from None
    return _from_containerd(ns, containers.containers, tasks.tasks)


# -- machined's services ----------------------------------------------------------------------

def _executable(pid: int, fallback: str) -> str:
    try:
        return psutil.Process(pid).exe() or fallback
    except (psutil.Error, OSError):
        return fallback


def service_entries(services: Iterable[tuple[str, int, str]]) -> list[Entry]:
    """(id, pid or 0, argv[0]) of process services -> entries (looks processes up)."""
    out = []
    for sid, pid, argv0 in services:
        image = _executable(pid, argv0) if pid else argv0
        out.append(Entry(namespace=SYSTEM_NAMESPACE, id=sid, image=image, pid=pid,
                         status="RUNNING" if pid else "STOPPED", pod_id=sid, name=sid))
    return out


def _process_services(node: NodeAPI) -> list[tuple[str, int, str]]:
    """A snapshot, taken on the loop (the supervisor is not thread-safe)."""
    return [(r.id, r.pid or 0, r.spec.process.argv[0]) for r in node.supervisor.services()
            if r.spec.process is not None and not r.spec.skip_reason]


async def entries(node: NodeAPI, namespace: str, driver: int) -> list[Entry]:
    ns = resolve_namespace(namespace, driver)
    socket = socket_path(node.paths)
    if ns != SYSTEM_NAMESPACE:
        return await containerd_entries(socket, ns)
    own = await asyncio.to_thread(service_entries, _process_services(node))
    try:
        from_containerd = await containerd_entries(socket, ns)
    except FailedPrecondition as exc:
        # the services are still worth listing; containerd's own state says why it is down
        log.info("containers: system namespace without containerd: %s", exc)
        from_containerd = []
    return sorted(own + from_containerd, key=lambda e: e.id)


# -- one container ----------------------------------------------------------------------------

async def containerd_container(node: NodeAPI, ns: str, cid: str) -> Entry:
    """The containerd container `cid` of namespace `ns`; NotFound naming both when absent
    (k8s.io holds nothing while no kubelet runs)."""
    found = [e for e in await containerd_entries(socket_path(node.paths), ns) if e.id == cid]
    if not found:
        raise NotFound(f"container {cid!r} not found in namespace {ns!r}")
    return found[0]


def terminate(entry: Entry) -> None:
    """Restart as upstream does it: SIGTERM to the container's task, whose owner (the
    kubelet, a restart policy) starts it again. Tasks.Kill is not in this project's
    containerd stubs; the task's init process (the pid Tasks.List reports) gets the signal
    directly, which is what Tasks.Kill without `all` delivers."""
    if not entry.pid:
        raise FailedPrecondition(f"container {entry.id!r} in namespace {entry.namespace!r} "
                                 f"is not running ({entry.status})")
    try:
        os.kill(entry.pid, signal.SIGTERM)
    except ProcessLookupError:
        raise FailedPrecondition(f"container {entry.id!r} in namespace {entry.namespace!r} "
                                 "exited meanwhile") from None


# -- stats ------------------------------------------------------------------------------------

def usage(pid: int) -> tuple[int, int] | None:
    """(resident bytes, CPU nanoseconds) of `pid` and its descendants; None if it is gone."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    rss = 0
    cpu = 0.0
    for p in procs:
        try:
            with p.oneshot():
                rss += p.memory_info().rss
                t = p.cpu_times()
                cpu += t.user + t.system
        except psutil.Error:
            continue  # exited meanwhile
    return rss, int(cpu * 1e9)


def stats(items: Iterable[Entry]) -> list[m.Stat]:
    out = []
    for e in items:
        if not e.pid:
            continue
        u = usage(e.pid)
        if u is None:
            continue
        out.append(m.Stat(namespace=e.namespace, id=e.id, pod_id=e.pod_id, name=e.name,
                          memory_usage=u[0], cpu_usage=u[1]))
    return out
