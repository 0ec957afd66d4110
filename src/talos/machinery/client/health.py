"""Cluster health: the checks `talosctl health` and `cluster create --wait` wait for.

Every check is a condition over all nodes, called through one endpoint's apid with `node`
targeting (so routing is exercised too). The checks run in order; each is retried until it
passes or the one shared deadline expires, and the timeout names the check that did not
pass and the last error it saw (Talos users get a bare "context deadline exceeded").
Kubernetes checks report "skipped: Kubernetes not available on this node" when the kubelet
service is Skipped: never a pass.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
from google.protobuf import empty_pb2
from ruamel.yaml import YAML

from talos.machinery.client.connection import Connection, node_metadata
from talos.machinery.errors import TalosError

#: how far a node's clock may be from the caller's (after subtracting the call's duration)
MAX_TIME_SKEW = 1.0
#: per-call deadline inside a check (bounded by what is left of the whole wait)
CALL_TIMEOUT = 3.0
RETRY_EVERY = 0.1
K8S_SKIPPED = "skipped: Kubernetes not available on this node"


class CheckFailed(TalosError):
    """One attempt of a check did not pass (the message says why)."""


class HealthTimeout(TalosError):
    code = "DEADLINE_EXCEEDED"

    def __init__(self, check: str, last_error: str, timeout: float) -> None:
        self.check = check
        self.last_error = last_error
        super().__init__(f"timed out after {timeout:g}s waiting for {check}: {last_error}")


@dataclass(frozen=True)
class ClusterInfo:
    """The nodes (addresses) the caller expects, by role."""

    controlplanes: tuple[str, ...]
    workers: tuple[str, ...] = ()

    @property
    def nodes(self) -> tuple[str, ...]:
        return (*self.controlplanes, *self.workers)

    def role_of(self, node: str) -> str:
        return "controlplane" if node in self.controlplanes else "worker"


@dataclass(frozen=True)
class Progress:
    """One line of progress: a check started, is still waiting (with its last error), passed
    or was skipped."""

    check: str
    state: str  # "waiting" | "ok" | "skipped" | "failed"
    message: str = ""


CheckFn = Callable[["Checker"], Awaitable[str]]


@dataclass(frozen=True)
class Check:
    description: str  # "etcd to be healthy": used as "waiting for <description>"
    run: CheckFn


class Checker:
    """Runs checks against the cluster through one connection."""

    def __init__(self, conn: Connection, info: ClusterInfo,
                 metadata: tuple[tuple[str, str], ...] = ()) -> None:
        from talos.api.machine import machine_pb2_grpc
        from talos.api.time import time_pb2_grpc
        from talos.api.v1alpha1 import state_pb2_grpc

        self.conn = conn
        self.info = info
        #: sent with every call besides the node targeting (e.g. a node forwarding its
        #: caller's roles in `talos-role`)
        self.metadata = metadata
        self.machine = machine_pb2_grpc.MachineServiceStub(
            conn.channel)
        self.cosi = state_pb2_grpc.StateStub(conn.channel)
        self.time = time_pb2_grpc.TimeServiceStub(conn.channel)
        self.deadline = float("inf")

    def timeout(self) -> float:
        # a little short of the overall deadline, so the RPC's own error (naming the node
        # and the cause) arrives before the wait gives up
        return max(0.05, min(CALL_TIMEOUT, self.deadline - time.monotonic() - 0.1))

    async def call(self, node: str, method: Any, request: Any) -> Any:
        try:
            return await method(request, metadata=(*node_metadata(node), *self.metadata),
                                timeout=self.timeout())
        except grpc.RpcError as e:
            raise CheckFailed(f"{node}: {self.conn.explain(e)}") from None

    async def each(self, nodes: Sequence[str], fn: Callable[[str], Awaitable[None]]) -> None:
        """Run `fn` for every node concurrently; the first failure (in node order) wins."""
        results = await asyncio.gather(*(fn(n) for n in nodes), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                if isinstance(r, TalosError):
                    raise CheckFailed(str(r))
                raise r

    async def resource(self, node: str, namespace: str, rtype: str, rid: str) -> Any:
        from talos.api.v1alpha1 import state_pb2

        reply = await self.call(node, self.cosi.Get,
                                state_pb2.GetRequest(namespace=namespace, type=rtype, id=rid))
        return _yaml(reply.resource.spec.yaml_spec)

    async def services(self, node: str) -> list[Any]:
        reply = await self.call(node, self.machine.ServiceList, empty_pb2.Empty())
        return [s for m in reply.messages for s in m.services]


def _yaml(text: str) -> Any:
    return YAML(typ="safe").load(io.StringIO(text)) if text else None


# -- the checks ----------------------------------------------------------------------------------

async def _apid_ready(c: Checker) -> str:
    async def one(node: str) -> None:
        await c.call(node, c.machine.Version, empty_pb2.Empty())
    await c.each(c.info.nodes, one)
    return f"{len(c.info.nodes)} node(s) answer"


async def _boot_done(c: Checker) -> str:
    async def one(node: str) -> None:
        spec = await c.resource(node, "runtime", "MachineStatuses.runtime.talos.dev", "machine")
        stage = (spec or {}).get("stage", "unknown")
        ready = ((spec or {}).get("status") or {}).get("ready", False)
        if stage != "running" or not ready:
            raise CheckFailed(f"{node}: boot stage {stage!r}, ready={ready}")
    await c.each(c.info.nodes, one)
    return "boot sequence done on every node"


def _service_line(s: Any) -> str:
    last = s.events.events[-1].msg if s.events.events else ""
    return f"{s.id} is {s.state}" + (f" ({last})" if last else "")


async def _etcd_healthy(c: Checker) -> str:
    async def one(node: str) -> None:
        etcd = next((s for s in await c.services(node) if s.id == "etcd"), None)
        if etcd is None:
            raise CheckFailed(f"{node}: no etcd service")
        if etcd.state == "Running" and not etcd.health.unknown and not etcd.health.healthy:
            # the health check's own words (no leader: which members do not answer)
            raise CheckFailed(f"{node}: etcd is Running but unhealthy: "
                              f"{etcd.health.last_message or 'no reason given'}")
        if etcd.state != "Running" or not etcd.health.healthy:
            health = etcd.health.last_message or ("unknown" if etcd.health.unknown
                                                  else "unhealthy")
            raise CheckFailed(f"{node}: {_service_line(etcd)}; health: {health}")
    await c.each(c.info.controlplanes, one)
    return f"etcd healthy on {len(c.info.controlplanes)} control plane(s)"


async def _etcd_members(c: Checker) -> str:
    from talos.api.machine import machine_pb2

    lists: dict[str, list[str]] = {}

    async def one(node: str) -> None:
        reply = await c.call(node, c.machine.EtcdMemberList,
                             machine_pb2.EtcdMemberListRequest())
        lists[node] = sorted(m.hostname for msg in reply.messages for m in msg.members)
    await c.each(c.info.controlplanes, one)
    first = lists[c.info.controlplanes[0]]
    if len(first) != len(c.info.controlplanes):
        raise CheckFailed(f"{c.info.controlplanes[0]}: etcd has {len(first)} member(s) "
                          f"{first}, expected {len(c.info.controlplanes)}")
    for node, members in lists.items():
        if members != first:
            raise CheckFailed(f"{node}: etcd members {members} differ from "
                              f"{c.info.controlplanes[0]}'s {first}")
    return f"{len(first)} member(s) on every control plane: {', '.join(first)}"


async def _services(c: Checker) -> str:
    skipped: list[str] = []

    async def one(node: str) -> None:
        for s in await c.services(node):
            if s.state == "Running":
                if not s.health.unknown and not s.health.healthy:
                    raise CheckFailed(f"{node}: {s.id} is Running but unhealthy: "
                                      f"{s.health.last_message}")
            elif s.state in ("Finished", "Skipped"):
                if s.state == "Skipped" and not s.events.events:
                    raise CheckFailed(f"{node}: {s.id} is Skipped without a reason")
                if s.state == "Skipped":
                    skipped.append(s.id)
            else:
                raise CheckFailed(f"{node}: {_service_line(s)}")
    await c.each(c.info.nodes, one)
    return "all services up" + (f" ({len(skipped)} skipped with a reason)" if skipped else "")


async def _time_sync(c: Checker) -> str:
    worst = 0.0

    async def one(node: str) -> None:
        nonlocal worst
        before = time.time()
        reply = await c.call(node, c.time.Time, empty_pb2.Empty())
        after = time.time()
        for m in reply.messages:
            t = m.localtime.ToNanoseconds() / 1e9
            skew = 0.0 if before <= t <= after else min(abs(t - before), abs(t - after))
            worst = max(worst, skew)
            if skew > MAX_TIME_SKEW:
                raise CheckFailed(f"{node}: clock is {skew:.2f}s away from this machine's")
    await c.each(c.info.nodes, one)
    return f"largest skew {worst * 1000:.0f} ms"


async def _roles(c: Checker) -> str:
    async def one(node: str) -> None:
        spec = await c.resource(node, "config", "MachineTypes.config.talos.dev", "machine-type")
        role = str(spec or "")
        want = c.info.role_of(node)
        if role.replace("init", "controlplane") != want:
            raise CheckFailed(f"{node}: reports role {role or '(none)'!r}, created as {want}")
    await c.each(c.info.nodes, one)
    return (f"{len(c.info.controlplanes)} control plane(s), {len(c.info.workers)} "
            "worker(s)")


async def _kubernetes(c: Checker) -> str:
    running: list[str] = []

    async def one(node: str) -> None:
        kubelet = next((s for s in await c.services(node) if s.id == "kubelet"), None)
        if kubelet is not None and kubelet.state != "Skipped":
            running.append(node)
    await c.each(c.info.nodes, one)
    if running:
        raise CheckFailed(f"kubelet runs on {', '.join(running)}, but Kubernetes health "
                          "checks are not implemented yet")
    return K8S_SKIPPED


CHECKS: tuple[Check, ...] = (
    Check("apid to be ready on all nodes", _apid_ready),
    Check("all nodes to finish boot sequence", _boot_done),
    Check("etcd to be healthy", _etcd_healthy),
    Check("etcd members to be consistent across nodes", _etcd_members),
    Check("all node services to be running and healthy", _services),
    Check("all nodes' time to be in sync", _time_sync),
    Check("all nodes to report the role they were created with", _roles),
)
#: reported as skipped (with the reason), never as passed, while no kubelet runs
KUBERNETES_CHECKS: tuple[str, ...] = (
    "kubelet to be healthy",
    "all k8s nodes to report",
    "all control plane static pods to be running",
    "all k8s nodes to report ready",
)


async def wait_healthy(conn: Connection, info: ClusterInfo, wait_timeout: float,
                       on_progress: Callable[[Progress], None],
                       checks: Sequence[Check] = CHECKS,
                       metadata: tuple[tuple[str, str], ...] = ()) -> None:
    """Wait, within exactly `wait_timeout` seconds overall, for every check in order."""
    if not info.controlplanes:
        raise CheckFailed("the cluster has no control-plane node to check")
    checker = Checker(conn, info, metadata)
    start = time.monotonic()
    checker.deadline = start + wait_timeout
    for check in checks:
        on_progress(Progress(check.description, "waiting"))
        last = ""
        while True:
            remaining = checker.deadline - time.monotonic()
            if remaining <= 0:
                on_progress(Progress(check.description, "failed", last))
                raise HealthTimeout(check.description, last or "no answer yet", wait_timeout)
            try:
                message = await asyncio.wait_for(check.run(checker), remaining)
            except TimeoutError:
                last = last or "the check did not finish before the deadline"
                continue  # the loop reports the deadline with the last error seen
            except CheckFailed as e:
                if str(e) != last:
                    last = str(e)
                    on_progress(Progress(check.description, "waiting", last))
                await asyncio.sleep(min(RETRY_EVERY, max(0.0, remaining)))
                continue
            on_progress(Progress(check.description, "ok", message))
            break
    try:
        message = await asyncio.wait_for(_kubernetes(checker), max(
            0.05, checker.deadline - time.monotonic()))
    except (CheckFailed, TimeoutError) as e:
        on_progress(Progress(KUBERNETES_CHECKS[0], "failed", str(e) or "timed out"))
        raise HealthTimeout(KUBERNETES_CHECKS[0], str(e) or "no answer",
                            wait_timeout) from None
    for name in KUBERNETES_CHECKS:  # one probe answers for every Kubernetes check
        on_progress(Progress(name, "skipped", message))


# -- node discovery ------------------------------------------------------------------------------

CONTROL_PLANE_TYPES = ("controlplane", "init")


def cluster_info_from_members(members: Sequence[Any]) -> ClusterInfo:
    """`Members.cluster.talos.dev` specs (YAML documents) -> the nodes by role: each
    member's first address, control planes by machine type (as Talos's discovery-based
    cluster info). Members without an address are left out."""
    cps: list[str] = []
    workers: list[str] = []
    for m in sorted((m for m in members if isinstance(m, dict)),
                    key=lambda m: str(m.get("hostname", ""))):
        addresses = [str(a) for a in m.get("addresses") or ()]
        if not addresses:
            continue
        role = cps if str(m.get("machineType", "")) in CONTROL_PLANE_TYPES else workers
        if addresses[0] not in cps and addresses[0] not in workers:
            role.append(addresses[0])
    return ClusterInfo(tuple(cps), tuple(workers))


async def discover_cluster_info(conn: Connection, node: str | None = None,
                                metadata: tuple[tuple[str, str], ...] = ()) -> ClusterInfo:
    """The cluster's nodes from `get members` of `node` (or of the endpoint itself).
    Raises CheckFailed when it lists no member (discovery disabled or not converged)."""
    from talos.api.v1alpha1 import state_pb2, state_pb2_grpc
    from talos.machinery.resources.cluster import MEMBER

    stub = state_pb2_grpc.StateStub(conn.channel)
    md = (*(node_metadata(node) if node else ()), *metadata)
    members: list[Any] = []
    try:
        async for item in stub.List(state_pb2.ListRequest(
                namespace=MEMBER.default_namespace, type=MEMBER.type), metadata=md,
                timeout=CALL_TIMEOUT):
            members.append(_yaml(item.resource.spec.yaml_spec))
    except grpc.RpcError as e:
        raise CheckFailed(f"listing cluster members: {conn.explain(e)}") from None
    info = cluster_info_from_members(members)
    if not info.controlplanes:
        where = node or conn.endpoint
        raise CheckFailed(f"{where} lists no control-plane member (is cluster discovery "
                          "enabled? pass --control-plane-nodes and --worker-nodes)")
    return info


def progress_line(p: Progress) -> str:
    """One progress event as Talos prints it: `waiting for <check>: OK (details)`."""
    if p.state == "waiting":
        return f"waiting for {p.check}: ..." + (f" ({p.message})" if p.message else "")
    return f"waiting for {p.check}: {p.state.upper()}" + (f" ({p.message})" if p.message
                                                         else "")
