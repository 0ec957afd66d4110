"""machine.MachineService as machined serves it on its unix socket.

Every unary reply is the Talos envelope `XResponse{messages=[X{metadata}]}`; streams carry
`common.Data`. Methods not overridden here answer UNIMPLEMENTED (through the interceptor).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import tarfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeAlias, TypeVar

import grpc
from google.protobuf import any_pb2, empty_pb2, timestamp_pb2

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from talos.api.machine import machine_pb2_grpc
from talos.machined.events import (
    Action,
    Event,
    PhaseEvent,
    SequenceEvent,
    ServiceStateEvent,
    TaskEvent,
)
from talos.machined.platform import metal
from talos.machined.sequencer import sequences
from talos.machined.server import containers, netstat, stats
from talos.machined.server.apply import ApplyMethods
from talos.machined.server.clientconfig import ClientConfigMethods
from talos.machined.server.context import NodeAPI
from talos.machined.server.cpufreq import CPUFreqMethods
from talos.machined.server.etcd import EtcdMethods
from talos.machined.server.etcd_downgrade import EtcdDowngradeMethods
from talos.machined.server.files import FileAccess
from talos.machined.server.images import ImageMethods
from talos.machined.server.meta import MetaMethods
from talos.machined.server.pcap import PacketCaptureMethods
from talos.machined.server.upgrade import UpgradeMethods
from talos.machined.system.logbuffer import LogBuffer
from talos.machined.system.service import HealthStatus, ServiceState
from talos.machinery.errors import FailedPrecondition, InvalidArgument, NotFound
from talos.machinery.version import build_info

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
T = TypeVar("T")

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
EVENT_TYPE_PREFIX = "talos/runtime/"


def _ts(seconds: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def _health(h: HealthStatus) -> m.ServiceHealth:
    out = m.ServiceHealth(unknown=h.unknown, healthy=h.healthy, last_message=h.last_message)
    if h.last_change:
        out.last_change.CopyFrom(_ts(h.last_change))
    return out


_SERVICE_ACTION = {s: getattr(m.ServiceStateEvent, s.name) for s in ServiceState}


def event_to_proto(ev: Event, hostname: str) -> m.Event:
    p = ev.payload
    msg: Any
    if isinstance(p, SequenceEvent):
        msg = m.SequenceEvent(sequence=p.sequence, action=m.SequenceEvent.START
                              if p.action is Action.START else m.SequenceEvent.STOP)
        if p.error:
            msg.error.CopyFrom(common_pb2.Error(code=common_pb2.FATAL, message=p.error))
    elif isinstance(p, PhaseEvent):
        msg = m.PhaseEvent(phase=p.phase, action=m.PhaseEvent.START
                           if p.action is Action.START else m.PhaseEvent.STOP)
    elif isinstance(p, TaskEvent):
        msg = m.TaskEvent(task=p.task, action=m.TaskEvent.START
                          if p.action is Action.START else m.TaskEvent.STOP)
    elif isinstance(p, ServiceStateEvent):
        msg = m.ServiceStateEvent(service=p.service, action=_SERVICE_ACTION[p.state],
                                  message=p.message, health=_health(p.health))
    else:  # pragma: no cover - the union is closed
        raise TypeError(type(p))
    data = any_pb2.Any(type_url=EVENT_TYPE_PREFIX + msg.DESCRIPTOR.full_name,
                       value=msg.SerializeToString())
    return m.Event(metadata=common_pb2.Metadata(hostname=hostname), data=data, id=ev.id)


class MachineServicer(EtcdMethods, ApplyMethods, ClientConfigMethods, PacketCaptureMethods,
                      MetaMethods, CPUFreqMethods, EtcdDowngradeMethods, ImageMethods,
                      UpgradeMethods, machine_pb2_grpc.MachineServiceServicer):
    def __init__(self, node: NodeAPI) -> None:
        self.node = node
        self.files = FileAccess(node.paths)

    def _md(self) -> common_pb2.Metadata:
        return common_pb2.Metadata(hostname=self.node.hostname)

    # -- identity -----------------------------------------------------------------------------

    async def Version(self, request: empty_pb2.Empty, context: Ctx) -> m.VersionResponse:
        bi = build_info()
        # a sandbox is what Talos calls the container platform (no kernel of its own)
        name, mode = ("container", "container") if self.node.sandbox else ("local", "local")
        if metal.active():  # a machine booted from the image
            name, mode = "metal", "metal"
        return m.VersionResponse(messages=[m.Version(
            metadata=self._md(),
            version=m.VersionInfo(tag=bi.tag, sha=bi.sha, built=bi.built,
                                  go_version=bi.python_version, os=bi.os, arch=bi.arch),
            platform=m.PlatformInfo(name=name, mode=mode),
            features=m.FeaturesInfo(rbac=True))])

    async def Hostname(self, request: empty_pb2.Empty, context: Ctx) -> m.HostnameResponse:
        return m.HostnameResponse(messages=[m.Hostname(metadata=self._md(),
                                                       hostname=self.node.hostname)])

    # -- services -----------------------------------------------------------------------------

    async def ServiceList(self, request: empty_pb2.Empty, context: Ctx
                          ) -> m.ServiceListResponse:
        # machined itself is listed as a service, as Talos does (it is this process)
        started = self.node.started
        infos = [m.ServiceInfo(
            id="machined", state="Running",
            events=m.ServiceEvents(events=[m.ServiceEvent(
                msg="Service started as PID 1", state="Running", ts=_ts(started))]),
            health=m.ServiceHealth(healthy=True, last_change=_ts(started)))]
        for r in self.node.supervisor.services():
            infos.append(m.ServiceInfo(
                id=r.id, state=r.state.value,
                events=m.ServiceEvents(events=[
                    m.ServiceEvent(msg=e.message, state=e.state.value, ts=_ts(e.ts))
                    for e in r.events]),
                health=_health(r.health)))
        return m.ServiceListResponse(messages=[m.ServiceList(metadata=self._md(),
                                                             services=infos)])

    def _controllable(self, sid: str) -> str:
        if not sid:
            raise InvalidArgument("id: a service id is required")
        if sid == "machined":
            raise InvalidArgument("service 'machined' is PID 1 and cannot be started, stopped "
                                  "or restarted (reboot or shutdown the node instead)")
        r = self.node.supervisor.get(sid)  # NotFound for unknown ids
        if not r.spec.user_controlled:
            raise InvalidArgument(f"service {sid!r} doesn't support start/stop/restart "
                                  "(only apid, trustd, etcd, containerd and kubelet do)")
        return sid

    async def ServiceStart(self, request: m.ServiceStartRequest, context: Ctx
                           ) -> m.ServiceStartResponse:
        sid = self._controllable(request.id)
        self.node.supervisor.start(sid)
        return m.ServiceStartResponse(messages=[m.ServiceStart(
            metadata=self._md(), resp=f"Service \"{sid}\" started")])

    async def ServiceStop(self, request: m.ServiceStopRequest, context: Ctx
                          ) -> m.ServiceStopResponse:
        sid = self._controllable(request.id)
        await self.node.supervisor.stop(sid)
        return m.ServiceStopResponse(messages=[m.ServiceStop(
            metadata=self._md(), resp=f"Service \"{sid}\" stopped")])

    async def ServiceRestart(self, request: m.ServiceRestartRequest, context: Ctx
                             ) -> m.ServiceRestartResponse:
        sid = self._controllable(request.id)
        await self.node.supervisor.restart(sid)
        return m.ServiceRestartResponse(messages=[m.ServiceRestart(
            metadata=self._md(), resp=f"Service \"{sid}\" restarted")])

    # -- logs, kernel log, events -------------------------------------------------------------

    def _log_buffer(self, sid: str) -> LogBuffer:
        if not sid:
            raise InvalidArgument("id: a service id is required (e.g. machined, containerd)")
        if sid == "machined":
            return self.node.machined_log
        return self.node.supervisor.get(sid).log

    async def Logs(self, request: m.LogsRequest, context: Ctx
                   ) -> AsyncIterator[common_pb2.Data]:
        ns = containers.resolve_namespace(request.namespace, request.driver)
        if ns != containers.SYSTEM_NAMESPACE:
            if not request.id:
                raise InvalidArgument("id: a container id is required")
            entry = await containers.containerd_container(self.node, ns, request.id)
            # upstream reads the log file the CRI reports for the container; this node has
            # no CRI client (and no kubelet writing /var/log/pods) yet
            raise FailedPrecondition(f"container {entry.id!r} in namespace {ns!r}: logs of "
                                     "containerd containers are not readable on this node "
                                     "yet (only the system namespace's services)")
        buf = self._log_buffer(request.id)
        md = self._md()
        async for chunk in buf.read(tail_lines=request.tail_lines, follow=request.follow):
            yield common_pb2.Data(metadata=md, bytes=chunk)

    async def Dmesg(self, request: m.DmesgRequest, context: Ctx
                    ) -> AsyncIterator[common_pb2.Data]:
        try:
            fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise FailedPrecondition(f"the kernel log /dev/kmsg is not readable on this node: "
                                     f"{exc.strerror}") from None
        loop = asyncio.get_running_loop()
        md = self._md()
        try:
            if request.tail:
                os.lseek(fd, 0, os.SEEK_END)
            while True:
                try:
                    rec = os.read(fd, 8192)
                except BlockingIOError:
                    if not request.follow:
                        return
                    ready = loop.create_future()
                    loop.add_reader(fd, ready.set_result, None)
                    try:
                        await ready
                    finally:
                        loop.remove_reader(fd)
                    continue
                except BrokenPipeError:
                    continue  # records were overwritten while we read: skip ahead
                yield common_pb2.Data(metadata=md, bytes=_format_kmsg(rec))
        finally:
            os.close(fd)

    async def LogsContainers(self, request: empty_pb2.Empty, context: Ctx
                             ) -> m.LogsContainersResponse:
        """The ids `Logs` answers for in the system namespace: machined and every service
        (each has its log buffer from registration on; upstream: the registered logs)."""
        ids = ["machined", *(r.id for r in self.node.supervisor.services())]
        return m.LogsContainersResponse(messages=[m.LogsContainer(metadata=self._md(),
                                                                  ids=ids)])

    async def Events(self, request: m.EventsRequest, context: Ctx) -> AsyncIterator[m.Event]:
        host = self.node.hostname
        tail = request.tail_events
        since = request.tail_id
        cutoff = time.time() - request.tail_seconds if request.tail_seconds > 0 else None
        if cutoff is not None:
            tail = -1
        async for ev in self.node.bus.stream(tail_events=tail, since_id=since):
            if cutoff is not None and ev.ts < cutoff:
                continue
            yield event_to_proto(ev, host)

    # -- system statistics --------------------------------------------------------------------

    async def _thread(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    async def Memory(self, request: empty_pb2.Empty, context: Ctx) -> m.MemoryResponse:
        mi = await self._thread(stats.meminfo)
        return m.MemoryResponse(messages=[m.Memory(metadata=self._md(), meminfo=mi)])

    async def Processes(self, request: empty_pb2.Empty, context: Ctx) -> m.ProcessesResponse:
        ps = await self._thread(stats.processes)
        return m.ProcessesResponse(messages=[m.Process(metadata=self._md(), processes=ps)])

    async def SystemStat(self, request: empty_pb2.Empty, context: Ctx
                         ) -> m.SystemStatResponse:
        st = await self._thread(stats.system_stat)
        st.metadata.CopyFrom(self._md())
        return m.SystemStatResponse(messages=[st])

    async def CPUInfo(self, request: empty_pb2.Empty, context: Ctx) -> m.CPUInfoResponse:
        cpus = await self._thread(stats.cpu_info)
        return m.CPUInfoResponse(messages=[m.CPUsInfo(metadata=self._md(), cpu_info=cpus)])

    async def LoadAvg(self, request: empty_pb2.Empty, context: Ctx) -> m.LoadAvgResponse:
        l1, l5, l15 = os.getloadavg()
        return m.LoadAvgResponse(messages=[m.LoadAvg(metadata=self._md(), load1=l1,
                                                     load5=l5, load15=l15)])

    async def DiskStats(self, request: empty_pb2.Empty, context: Ctx) -> m.DiskStatsResponse:
        total, devs = await self._thread(stats.disk_stats)
        return m.DiskStatsResponse(messages=[m.DiskStats(metadata=self._md(), total=total,
                                                         devices=devs)])

    async def Mounts(self, request: empty_pb2.Empty, context: Ctx) -> m.MountsResponse:
        ms = await self._thread(stats.mounts)
        return m.MountsResponse(messages=[m.Mounts(metadata=self._md(), stats=ms)])

    async def NetworkDeviceStats(self, request: empty_pb2.Empty, context: Ctx
                                 ) -> m.NetworkDeviceStatsResponse:
        total, devs = await self._thread(stats.net_devices)
        return m.NetworkDeviceStatsResponse(messages=[m.NetworkDeviceStats(
            metadata=self._md(), total=total, devices=devs)])

    async def Netstat(self, request: m.NetstatRequest, context: Ctx) -> m.NetstatResponse:
        q = netstat.Query.from_request(request)
        netns_dir = self.node.paths.to_host(netstat.NETNS_DIR)
        records = await self._thread(lambda: netstat.netstat(q, netns_dir))
        return m.NetstatResponse(messages=[m.Netstat(metadata=self._md(),
                                                     connectrecord=records)])

    # -- containers ---------------------------------------------------------------------------

    async def Containers(self, request: m.ContainersRequest, context: Ctx
                         ) -> m.ContainersResponse:
        items = await containers.entries(self.node, request.namespace, request.driver)
        return m.ContainersResponse(messages=[m.Container(
            metadata=self._md(), containers=[e.info() for e in items])])

    async def Restart(self, request: m.RestartRequest, context: Ctx) -> m.RestartResponse:
        """Restart a container by id (upstream v1.13.9). In the system namespace the
        "containers" are machined's services: the supervisor restarts them exactly as
        ServiceRestart does. Anything else is a containerd container, sent SIGTERM for its
        owner to start again, as upstream."""
        if not request.id:
            raise InvalidArgument("id: a container id is required")
        ns = containers.resolve_namespace(request.namespace, request.driver)
        if ns == containers.SYSTEM_NAMESPACE and self._is_service(request.id):
            await self.ServiceRestart(m.ServiceRestartRequest(id=request.id), context)
        else:
            try:
                entry = await containers.containerd_container(self.node, ns, request.id)
            except FailedPrecondition as exc:
                if ns != containers.SYSTEM_NAMESPACE:
                    raise
                raise NotFound(f"container {request.id!r} not found in namespace {ns!r} "
                               f"(no such service; {exc})") from None
            await asyncio.to_thread(containers.terminate, entry)
        return m.RestartResponse(messages=[m.Restart(metadata=self._md())])

    def _is_service(self, sid: str) -> bool:
        if sid == "machined":
            return True
        try:
            self.node.supervisor.get(sid)
        except NotFound:
            return False
        return True

    async def Stats(self, request: m.StatsRequest, context: Ctx) -> m.StatsResponse:
        items = await containers.entries(self.node, request.namespace, request.driver)
        st = await self._thread(lambda: containers.stats(items))
        return m.StatsResponse(messages=[m.Stats(metadata=self._md(), stats=st)])

    # -- files --------------------------------------------------------------------------------

    async def _iterate(self, make: Callable[[], Iterator[T]], batch: int = 256
                       ) -> AsyncIterator[T]:
        """Drive a blocking iterator in a thread, `batch` items at a time (bounded memory)."""
        it = await asyncio.to_thread(make)
        sentinel = object()

        def take() -> list[Any]:
            out: list[Any] = []
            for _ in range(batch):
                item = next(it, sentinel)
                if item is sentinel:
                    out.append(sentinel)
                    break
                out.append(item)
            return out

        while True:
            items = await asyncio.to_thread(take)
            for item in items:
                if item is sentinel:
                    return
                yield item

    async def List(self, request: m.ListRequest, context: Ctx) -> AsyncIterator[m.FileInfo]:
        md = self._md()
        # resolve first so a bad root fails the call instead of the first message
        await asyncio.to_thread(self.files.resolve, request.root or "/var", field="root")
        async for fi in self._iterate(lambda: self.files.list(request)):
            fi.metadata.CopyFrom(md)
            yield fi

    async def DiskUsage(self, request: m.DiskUsageRequest, context: Ctx
                        ) -> AsyncIterator[m.DiskUsageInfo]:
        md = self._md()
        for p in request.paths or ["/var"]:
            await asyncio.to_thread(self.files.resolve, p, field="paths")
        async for du in self._iterate(lambda: self.files.disk_usage(request)):
            du.metadata.CopyFrom(md)
            yield du

    async def Read(self, request: m.ReadRequest, context: Ctx
                   ) -> AsyncIterator[common_pb2.Data]:
        fd = await asyncio.to_thread(self.files.open_for_read, request.path)
        md = self._md()
        try:
            while True:
                chunk = await asyncio.to_thread(os.read, fd, CHUNK)
                if not chunk:
                    return
                yield common_pb2.Data(metadata=md, bytes=chunk)
        finally:
            os.close(fd)

    async def Copy(self, request: m.CopyRequest, context: Ctx
                   ) -> AsyncIterator[common_pb2.Data]:
        """A gzipped tar of `root_path`, produced in a thread with bounded buffering."""
        host = await asyncio.to_thread(self.files.resolve, request.root_path,
                                       field="root_path")
        md = self._md()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(maxsize=8)
        cancelled = threading.Event()

        class _Sink:
            def write(self, data: bytes) -> int:
                if cancelled.is_set():
                    raise OSError("copy cancelled")
                asyncio.run_coroutine_threadsafe(queue.put(bytes(data)), loop).result()
                return len(data)

            def flush(self) -> None:
                return None

        def produce() -> None:
            try:
                with tarfile.open(fileobj=_Sink(), mode="w|gz",  # type: ignore[call-overload]
                                  bufsize=CHUNK) as tar:
                    tar.add(host, arcname=os.path.basename(host.rstrip("/")) or ".")
            except BaseException as exc:
                if not cancelled.is_set():
                    asyncio.run_coroutine_threadsafe(queue.put(exc), loop).result()
                return
            asyncio.run_coroutine_threadsafe(queue.put(None), loop).result()

        producer = asyncio.ensure_future(asyncio.to_thread(produce))
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise FailedPrecondition(f"copy {request.root_path!r}: {item}")
                yield common_pb2.Data(metadata=md, bytes=item)
        finally:
            cancelled.set()
            while not producer.done():
                # unblock a producer waiting on a full queue
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                await asyncio.sleep(0.01)
            with contextlib.suppress(Exception):
                producer.result()

    # -- power --------------------------------------------------------------------------------

    async def Reboot(self, request: m.RebootRequest, context: Ctx) -> m.RebootResponse:
        mode = int(request.mode)
        if mode == m.RebootRequest.POWERCYCLE:
            # Talos's POWERCYCLE bypasses kexec for a reboot through the firmware. This node
            # has neither: every reboot stops all services and re-executes machined from
            # scratch, which is already the cold restart POWERCYCLE asks for.
            log.info("reboot mode POWERCYCLE: no kexec and no firmware here; every reboot "
                     "stops all services and re-executes machined, so POWERCYCLE is the "
                     "same full restart as DEFAULT")
        elif mode != m.RebootRequest.DEFAULT:
            # FORCE (reboot without stopping anything) is not done here: machined always
            # stops its services before it re-executes
            known = mode in m.RebootRequest.Mode.values()
            name = m.RebootRequest.Mode.Name(mode) if known else str(mode)
            raise InvalidArgument(f"mode: reboot mode {name} is not supported by this node "
                                  "(expected DEFAULT or POWERCYCLE)")
        self.node.sequencer.submit(sequences.reboot(self.node))
        return m.RebootResponse(messages=[m.Reboot(metadata=self._md())])

    async def Shutdown(self, request: m.ShutdownRequest, context: Ctx) -> m.ShutdownResponse:
        if request.force:
            log.info("shutdown with force: the cordon/drain phase is skipped")
        self.node.sequencer.submit(sequences.shutdown(self.node, drain=not request.force))
        return m.ShutdownResponse(messages=[m.Shutdown(metadata=self._md())])


_FACILITY = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp",
             "cron", "authpriv", "ftp"]
_LEVEL = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]


def _format_kmsg(rec: bytes) -> bytes:
    """`pri,seq,usec,flags;message` -> `kern:    info: [   12.345678]: message` as Talos."""
    head, _, msg = rec.partition(b";")
    try:
        pri, _seq, usec = (int(x) for x in head.split(b",")[:3])
    except ValueError:
        return rec
    text = msg.split(b"\n", 1)[0].decode(errors="replace")
    fac = _FACILITY[pri >> 3] if (pri >> 3) < len(_FACILITY) else str(pri >> 3)
    lvl = _LEVEL[pri & 7]
    return f"{fac:>7}: {lvl:>7}: [{usec / 1e6:12.6f}]: {text}\n".encode()


def platform_arch() -> str:
    return platform.machine()
