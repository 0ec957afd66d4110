"""The dashboard's data feeds: what each node tells, turned into `model` updates.

Per node, as upstream's `apidata`, `resourcedata` and `logdata` sources (v1.13.9), but
streaming wherever the node API streams:

- statistics (SystemStat, Memory, LoadAvg, and for the Monitor screen NetworkDeviceStats,
  DiskStats, Processes; CPUInfo once for the CPU count) have no stream: polled every
  `--update-interval` (Version too, until it answers), as upstream's `apidata` polls them.
  The poll decides reachability: a failed poll marks the node unreachable, the next answer
  clears it; a node that fails only the Monitor's calls keeps its summary;
- services: ServiceList once per connection, then the Events stream (full history, then
  live `ServiceStateEvent`s);
- hostname, machine stage/ready, addresses, etcd member: COSI State `Watch` of
  `HostnameStatuses`, `MachineStatuses`, `NodeAddresses`, `EtcdMembers`;
- logs: `Logs` follow of the selected service (machined by default) with a short tail.

Every unary call has a deadline (`RPC_TIMEOUT`); every stream that ends or fails is opened
again after a back-off (1 s doubling to 10 s), so a node that stops answering never blocks
the others or the screen. Updates go to one queue the app drains.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import grpc
import grpc.aio
from google.protobuf import empty_pb2
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from talos.api.machine import machine_pb2_grpc
from talos.api.v1alpha1 import state_pb2, state_pb2_grpc
from talos.machinery.client.connection import Connection, Metadata, node_metadata
from talos.talosctl.dashboard.model import (
    AddressesSeen,
    Change,
    CpuTimes,
    EtcdMemberSeen,
    HostnameSeen,
    LogLine,
    LogRestarted,
    MachineStatusSeen,
    MonitorSampled,
    NodeUpdate,
    ServiceChanged,
    ServicesListed,
    ServiceState,
    StatsSampled,
    Unreachable,
    Update,
    VersionSeen,
    mem_usage,
)
from talos.talosctl.dashboard.monitor_model import MemFigures, MonitorSample, Proc

#: deadline of every unary call (a node that does not answer within it is unreachable)
RPC_TIMEOUT = 5.0
#: log lines replayed when a log stream (re)starts
LOG_TAIL = 100
BACKOFF_MIN = 1.0
BACKOFF_MAX = 10.0
#: a stream that stayed up this long starts its next back-off from the minimum again
BACKOFF_RESET_AFTER = 30.0

#: resources watched per node: (namespace, type)
HOSTNAME = ("network", "HostnameStatuses.net.talos.dev")
MACHINE_STATUS = ("runtime", "MachineStatuses.runtime.talos.dev")
NODE_ADDRESSES = ("network", "NodeAddresses.net.talos.dev")
ETCD_MEMBERS = ("etcd", "EtcdMembers.etcd.talos.dev")
#: NodeAddress ids in order of preference (upstream shows routed-no-k8s, else routed)
ADDRESS_IDS = ("routed-no-k8s", "routed", "current")

_TRANSIENT = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def _yaml(text: str) -> Any:
    try:
        return YAML(typ="safe", pure=True).load(text) if text.strip() else None
    except YAMLError:
        return None


def _state_name(action: int) -> str:
    """`RUNNING` -> `Running`, as ServiceList spells states."""
    return str(m.ServiceStateEvent.Action.Name(action)).title()


def _health(h: Any, present: bool = True) -> str:
    if not present or h.unknown:
        return "?"
    return "healthy" if h.healthy else "unhealthy"


class Backoff:
    """Waits between reconnects: BACKOFF_MIN doubling to BACKOFF_MAX; a connection that
    lasted BACKOFF_RESET_AFTER starts again from the minimum."""

    def __init__(self) -> None:
        self.delay = BACKOFF_MIN
        self.started = time.monotonic()

    def connected(self) -> None:
        self.started = time.monotonic()

    async def wait(self) -> None:
        if time.monotonic() - self.started >= BACKOFF_RESET_AFTER:
            self.delay = BACKOFF_MIN
        await asyncio.sleep(self.delay)
        self.delay = min(BACKOFF_MAX, self.delay * 2)


class Feeds:
    """All feeds of all nodes, owned by one TaskGroup (`run()`); `follow_logs()` switches
    the followed service on every node."""

    def __init__(self, conn: Connection, nodes: list[str], interval: float,
                 updates: asyncio.Queue[Update], log_service: str = "machined") -> None:
        self.conn = conn
        self.nodes = nodes
        self.interval = interval
        self.updates = updates
        self.log_service = log_service
        self.machine = machine_pb2_grpc.MachineServiceStub(conn.channel)
        self.state = state_pb2_grpc.StateStub(conn.channel)
        self._tg: asyncio.TaskGroup | None = None
        self._log_tasks: dict[str, asyncio.Task[None]] = {}

    # -- plumbing ------------------------------------------------------------------------------

    def _md(self, node: str) -> Metadata:
        return node_metadata(node) if node else ()

    def _put(self, node: str, change: Change) -> None:
        self.updates.put_nowait(NodeUpdate(node, change))

    def _reason(self, error: grpc.RpcError) -> str:
        return str(self.conn.explain(error))

    def _lost(self, node: str, error: grpc.RpcError) -> None:
        """A failed call: when it is for lack of an answer, the node is unreachable."""
        if isinstance(error, grpc.aio.AioRpcError) and error.code() in _TRANSIENT:
            self._put(node, Unreachable(self._reason(error)))

    async def _unary(self, node: str, fn: Callable[..., Awaitable[Any]], req: Any) -> Any:
        """One reply message of a unary call, with the deadline; a per-node error in the
        reply (fan-out envelope) raises as the call would."""
        reply = await fn(req, metadata=self._md(node), timeout=RPC_TIMEOUT)
        msg = reply.messages[0] if len(reply.messages) else None
        if msg is None:
            raise _NodeError(f"{node or 'the node'} sent an empty reply")
        if msg.metadata.error:
            raise _NodeError(msg.metadata.error)
        return msg

    async def _retrying(self, node: str, what: Callable[[Backoff], Awaitable[None]]) -> None:
        """Run the stream reader `what` forever, again after a back-off when it ends."""
        backoff = Backoff()
        while True:
            try:
                await what(backoff)
            except grpc.RpcError as e:
                self._lost(node, e)
            except _NodeError:
                pass
            except Exception as e:  # a bug here must not end the other feeds or the screen
                self._broken(node, e)
            await backoff.wait()

    def _broken(self, node: str, error: Exception) -> None:
        self.updates.put_nowait(LogLine(node, self.log_service, f"dashboard: a data feed "
                                        f"failed: {error or 'internal error'}", error=True))

    # -- the feeds -----------------------------------------------------------------------------

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            self._tg = tg
            for node in self.nodes:
                tg.create_task(self._poll(node))
                tg.create_task(self._retrying(node, partial(self._services, node)))
                for kind in (HOSTNAME, MACHINE_STATUS, NODE_ADDRESSES, ETCD_MEMBERS):
                    tg.create_task(self._retrying(node, partial(self._watch, node, kind)))
                self._start_logs(node)

    async def _poll(self, node: str) -> None:
        """Statistics every interval; the node is unreachable while they fail."""
        version_known = False
        cpu_count = 0
        while True:
            started = time.monotonic()
            try:
                if not version_known:
                    v = await self._unary(node, self.machine.Version, empty_pb2.Empty())
                    self._put(node, VersionSeen(v.version.tag))
                    version_known = True
                st, mem, load = await asyncio.gather(
                    self._unary(node, self.machine.SystemStat, empty_pb2.Empty()),
                    self._unary(node, self.machine.Memory, empty_pb2.Empty()),
                    self._unary(node, self.machine.LoadAvg, empty_pb2.Empty()))
                c = st.cpu_total
                mi = mem.meminfo
                self._put(node, StatsSampled(
                    cpu=CpuTimes(c.user, c.nice, c.system, c.idle, c.iowait, c.irq,
                                 c.soft_irq, c.steal),
                    boot_time=float(st.boot_time), mem_total_kib=int(mi.memtotal),
                    mem_used=mem_usage(mi.memtotal, mi.memfree, mi.cached, mi.buffers),
                    load1=float(load.load1)))
                cpu_count = await self._poll_monitor(node, st, mi, load, cpu_count)
            except grpc.RpcError as e:
                reason = self._reason(e) if isinstance(e, grpc.aio.AioRpcError) else str(e)
                self._put(node, Unreachable(reason))
            except _NodeError as e:
                self._put(node, Unreachable(str(e)))
            except Exception as e:  # a bug here must not end the other feeds or the screen
                self._broken(node, e)
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    async def _poll_monitor(self, node: str, st: Any, mi: Any, load: Any, cpu_count: int
                            ) -> int:
        """The Monitor screen's part of a poll (after the summary's SystemStat, Memory and
        LoadAvg); returns the CPU count (asked once). Its failure leaves the summary as
        it is: no answer marks the node unreachable, a refusal only leaves the screen
        without data."""
        c = st.cpu_total
        try:
            if not cpu_count:
                info = await self._unary(node, self.machine.CPUInfo, empty_pb2.Empty())
                cpu_count = len(info.cpu_info)
            net, disk, procs = await asyncio.gather(
                self._unary(node, self.machine.NetworkDeviceStats, empty_pb2.Empty()),
                self._unary(node, self.machine.DiskStats, empty_pb2.Empty()),
                self._unary(node, self.machine.Processes, empty_pb2.Empty()))
            self._put(node, MonitorSampled(MonitorSample(
                cpu=CpuTimes(c.user, c.nice, c.system, c.idle, c.iowait, c.irq,
                             c.soft_irq, c.steal),
                context_switches=int(st.context_switches),
                process_created=int(st.process_created),
                process_running=int(st.process_running),
                process_blocked=int(st.process_blocked),
                load=(float(load.load1), float(load.load5), float(load.load15)),
                mem=MemFigures(int(mi.memtotal), int(mi.memfree), int(mi.memavailable),
                               int(mi.buffers), int(mi.cached), int(mi.shmem),
                               int(mi.swaptotal), int(mi.swapfree)),
                net_rx=int(net.total.rx_bytes), net_tx=int(net.total.tx_bytes),
                disk_read=int(disk.total.read_sectors),
                disk_write=int(disk.total.write_sectors),
                processes=tuple(
                    Proc(p.pid, p.state, p.threads, p.cpu_time, p.virtual_memory,
                         p.resident_memory, p.command, p.executable, p.args)
                    for p in procs.processes),
                cpu_count=cpu_count)))
        except grpc.RpcError as e:
            self._lost(node, e)
        except _NodeError:
            pass
        return cpu_count

    async def _services(self, node: str, backoff: Backoff) -> None:
        """ServiceList, then every ServiceStateEvent the node still has and those to come
        (replayed in order, they end at each service's current state)."""
        listed = await self._unary(node, self.machine.ServiceList, empty_pb2.Empty())
        self._put(node, ServicesListed(tuple(
            ServiceState(s.id, s.state, _health(s.health)) for s in listed.services)))
        backoff.connected()
        stream: AsyncIterator[Any] = self.machine.Events(
            m.EventsRequest(tail_events=-1), metadata=self._md(node))
        async for ev in stream:
            if ev.metadata.error:
                raise _NodeError(ev.metadata.error)
            if not ev.data.type_url.endswith(".ServiceStateEvent"):
                continue
            payload = m.ServiceStateEvent()
            payload.ParseFromString(ev.data.value)
            self._put(node, ServiceChanged(ServiceState(
                payload.service, _state_name(payload.action),
                _health(payload.health, payload.HasField("health")))))

    async def _watch(self, node: str, kind: tuple[str, str], backoff: Backoff) -> None:
        ns, type_ = kind
        req = state_pb2.WatchRequest(namespace=ns, type=type_, api_version=1,
                                     options=state_pb2.WatchOptions(bootstrap_contents=True))
        addresses: dict[str, tuple[str, ...]] = {}
        stream: AsyncIterator[Any] = self.state.Watch(req, metadata=self._md(node))
        async for resp in stream:
            backoff.connected()
            for ev in resp.event:
                if ev.event_type == state_pb2.ERRORED:
                    raise _NodeError(ev.error or "watch failed")
                if ev.event_type not in (state_pb2.CREATED, state_pb2.UPDATED,
                                         state_pb2.DESTROYED):
                    continue
                gone = ev.event_type == state_pb2.DESTROYED
                rid = ev.resource.metadata.id
                spec = {} if gone else (_yaml(ev.resource.spec.yaml_spec) or {})
                if not isinstance(spec, dict):
                    continue
                change = self._change(kind, rid, spec, gone, addresses)
                if change is not None:
                    self._put(node, change)

    @staticmethod
    def _change(kind: tuple[str, str], rid: str, spec: dict[str, Any], gone: bool,
                addresses: dict[str, tuple[str, ...]]) -> Change | None:
        if kind == HOSTNAME:
            return HostnameSeen(str(spec.get("hostname") or ""))
        if kind == MACHINE_STATUS:
            status = spec.get("status") or {}
            return MachineStatusSeen(str(spec.get("stage") or ""),
                                     bool(isinstance(status, dict) and status.get("ready")))
        if kind == ETCD_MEMBERS:
            return EtcdMemberSeen(str(spec.get("memberID") or ""))
        if kind == NODE_ADDRESSES and rid in ADDRESS_IDS:
            if gone:
                addresses.pop(rid, None)
            else:
                addresses[rid] = tuple(str(a) for a in spec.get("addresses") or ())
            best = next((addresses[i] for i in ADDRESS_IDS if addresses.get(i)), ())
            return AddressesSeen(best)
        return None

    # -- logs ------------------------------------------------------------------------------------

    def follow_logs(self, service: str) -> None:
        """Follow `service`'s log on every node from now on (each pane restarts)."""
        self.log_service = service
        for node in self.nodes:
            task = self._log_tasks.pop(node, None)
            if task is not None:
                task.cancel()
            self._start_logs(node)

    def _start_logs(self, node: str) -> None:
        assert self._tg is not None, "follow_logs() before run()"
        self._log_tasks[node] = self._tg.create_task(self._logs(node, self.log_service))

    async def _logs(self, node: str, service: str) -> None:
        backoff = Backoff()
        while True:
            try:
                await self._follow(node, service, backoff)
            except grpc.RpcError as e:
                self._lost(node, e)
                reason = self._reason(e) if isinstance(e, grpc.aio.AioRpcError) else str(e)
                self.updates.put_nowait(LogLine(node, service, f"error reading {service} logs: "
                                                               f"{reason}", error=True))
            except _NodeError as e:
                self.updates.put_nowait(LogLine(node, service,
                                                f"error reading {service} logs: {e}",
                                                error=True))
            except Exception as e:  # a bug here must not end the other feeds or the screen
                self._broken(node, e)
            await backoff.wait()

    async def _follow(self, node: str, service: str, backoff: Backoff) -> None:
        req = m.LogsRequest(namespace="system", id=service, follow=True, tail_lines=LOG_TAIL,
                            driver=common_pb2.CONTAINERD)
        stream: AsyncIterator[Any] = self.machine.Logs(req, metadata=self._md(node))
        pending = b""
        first = True
        async for chunk in stream:
            if chunk.metadata.error:
                raise _NodeError(chunk.metadata.error)
            if first:
                self.updates.put_nowait(LogRestarted(node, service))
                backoff.connected()
                first = False
            lines = (pending + chunk.bytes).split(b"\n")
            pending = lines.pop()
            for line in lines:
                self.updates.put_nowait(LogLine(node, service, line.decode("utf-8", "replace")))


class _NodeError(Exception):
    """A node answered with an error in the reply's metadata (not a failed call)."""
