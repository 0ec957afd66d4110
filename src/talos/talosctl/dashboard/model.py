"""What the dashboard knows of one node, and the changes the data feeds send it.

A `NodeSummary` is immutable: every change (`Change.apply`) returns a new one, so the app
only ever swaps a node's summary for the next version. The feeds (`sources`) turn API
replies into changes; nothing here talks to a node or draws anything.

Values not (yet) known are `N_A`, as upstream's dashboard shows them ("n/a").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

from talos.talosctl.dashboard.monitor_model import Monitor, MonitorSample, advance
from talos.talosctl.dashboard.stats import MAX_POINTS, CpuTimes, cpu_usage, mem_usage

__all__ = ["MAX_POINTS", "N_A", "CpuTimes", "NodeSummary", "cpu_usage", "mem_usage"]

N_A = "n/a"

def _push(series: tuple[float, ...], value: float) -> tuple[float, ...]:
    return (*series, value)[-MAX_POINTS:]


@dataclass(frozen=True)
class ServiceState:
    id: str
    state: str
    #: "healthy", "unhealthy" or "?" (health unknown)
    health: str = "?"


@dataclass(frozen=True)
class NodeSummary:
    """One node as the dashboard shows it. `node` is the name given with `-n` (or the
    endpoint's node when none was given)."""

    node: str
    hostname: str = N_A
    version: str = N_A
    boot_time: float | None = None
    stage: str = N_A
    ready: str = N_A
    cpu: tuple[float, ...] = ()
    mem: tuple[float, ...] = ()
    mem_total_kib: int | None = None
    load1: float | None = None
    services: tuple[ServiceState, ...] = ()
    etcd_member: str = N_A
    addresses: tuple[str, ...] = ()
    #: why the node does not answer ("" while it does)
    unreachable: str = ""
    #: the last CPU sample, for the next usage point
    last_cpu: CpuTimes | None = None
    #: what the Monitor screen shows (`monitor_model`)
    monitor: Monitor = field(default_factory=Monitor)

    def service(self, sid: str) -> ServiceState | None:
        return next((s for s in self.services if s.id == sid), None)


class Change(Protocol):
    """Something a feed learned about a node."""

    def apply(self, s: NodeSummary) -> NodeSummary: ...


@dataclass(frozen=True)
class StatsSampled:
    """One poll of SystemStat, Memory and LoadAvg (they have no stream)."""

    cpu: CpuTimes
    boot_time: float
    mem_total_kib: int
    mem_used: float
    load1: float

    def apply(self, s: NodeSummary) -> NodeSummary:
        cpu = s.cpu if s.last_cpu is None else _push(s.cpu, cpu_usage(s.last_cpu, self.cpu))
        return replace(s, cpu=cpu, last_cpu=self.cpu, mem=_push(s.mem, self.mem_used),
                       mem_total_kib=self.mem_total_kib, load1=self.load1,
                       boot_time=self.boot_time or None, unreachable="")


@dataclass(frozen=True)
class MonitorSampled:
    """One poll of what the Monitor screen shows (`monitor_model`)."""

    sample: MonitorSample

    def apply(self, s: NodeSummary) -> NodeSummary:
        return replace(s, monitor=advance(s.monitor, self.sample), unreachable="")


@dataclass(frozen=True)
class VersionSeen:
    tag: str

    def apply(self, s: NodeSummary) -> NodeSummary:
        return replace(s, version=self.tag or N_A)


@dataclass(frozen=True)
class HostnameSeen:
    """`HostnameStatuses.net.talos.dev` (watched); "" when it was destroyed."""

    hostname: str

    def apply(self, s: NodeSummary) -> NodeSummary:
        return replace(s, hostname=self.hostname or N_A)


@dataclass(frozen=True)
class MachineStatusSeen:
    """`MachineStatuses.runtime.talos.dev` (watched); stage "" when it was destroyed."""

    stage: str
    ready: bool

    def apply(self, s: NodeSummary) -> NodeSummary:
        if not self.stage:
            return replace(s, stage=N_A, ready=N_A)
        return replace(s, stage=self.stage, ready="true" if self.ready else "false")


@dataclass(frozen=True)
class AddressesSeen:
    """The node's addresses (`NodeAddresses.net.talos.dev`, watched)."""

    addresses: tuple[str, ...]

    def apply(self, s: NodeSummary) -> NodeSummary:
        return replace(s, addresses=tuple(sorted(self.addresses)))


@dataclass(frozen=True)
class EtcdMemberSeen:
    """The local etcd member ID (`EtcdMembers.etcd.talos.dev`, watched); "" when none."""

    member_id: str

    def apply(self, s: NodeSummary) -> NodeSummary:
        return replace(s, etcd_member=self.member_id or N_A)


@dataclass(frozen=True)
class ServicesListed:
    """The full service list (ServiceList, once per events connection)."""

    services: tuple[ServiceState, ...]

    def apply(self, s: NodeSummary) -> NodeSummary:
        return replace(s, services=tuple(sorted(self.services, key=lambda x: x.id)))


@dataclass(frozen=True)
class ServiceChanged:
    """One `ServiceStateEvent` from the Events stream."""

    service: ServiceState

    def apply(self, s: NodeSummary) -> NodeSummary:
        others = [x for x in s.services if x.id != self.service.id]
        return replace(s, services=tuple(sorted([*others, self.service], key=lambda x: x.id)))


@dataclass(frozen=True)
class Unreachable:
    """A call to the node failed for lack of an answer (deadline, connection)."""

    reason: str

    def apply(self, s: NodeSummary) -> NodeSummary:
        return replace(s, unreachable=self.reason or "no answer")


@dataclass(frozen=True)
class NodeUpdate:
    """A change for the node called `node`."""

    node: str
    change: Change


@dataclass(frozen=True)
class LogLine:
    """A line of `service`'s log on `node` (`error`: the stream failed, shown in red)."""

    node: str
    service: str
    text: str
    error: bool = False


@dataclass(frozen=True)
class LogRestarted:
    """The log stream of `node` (re)started: what came before is replayed by its tail."""

    node: str
    service: str


Update = NodeUpdate | LogLine | LogRestarted
