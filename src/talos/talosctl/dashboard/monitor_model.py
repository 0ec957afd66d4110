"""What the Monitor screen knows of one node: the last poll's figures, what changed since
the poll before (CPU shares, context switches, processes created, network and disk bytes,
each process's CPU time), and the time series its graphs draw.

As upstream's `apidata.Node` (v1.13.9 `internal/pkg/dashboard/apidata/node.go`): usage is
the difference of two polls, so the first poll shows zeros; the series keep the last
MAX_POINTS values. `advance` returns a new `Monitor` (immutable, like every node summary).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from talos.talosctl.dashboard.stats import MAX_POINTS, CpuTimes, mem_usage

#: the series the Monitor screen draws, as upstream names them
SERIES = ("user", "system", "mem", "loadavg", "netrxbytes", "nettxbytes", "diskrdsectors",
          "diskwrsectors")


@dataclass(frozen=True)
class MemFigures:
    """The meminfo figures the MEMORY panel shows, in KiB."""

    total: int = 0
    free: int = 0
    available: int = 0
    buffers: int = 0
    cached: int = 0
    shared: int = 0
    swap_total: int = 0
    swap_free: int = 0

    @property
    def used(self) -> int:
        return self.total - self.free - self.cached - self.buffers


@dataclass(frozen=True)
class Proc:
    """One process as `Processes` reports it."""

    pid: int
    state: str
    threads: int
    cpu_time: float
    virtual: int
    resident: int
    command: str
    executable: str
    args: str


@dataclass(frozen=True)
class MonitorSample:
    """One poll of SystemStat, Memory, LoadAvg, NetworkDeviceStats, DiskStats, Processes."""

    cpu: CpuTimes
    context_switches: int
    process_created: int
    process_running: int
    process_blocked: int
    load: tuple[float, float, float]
    mem: MemFigures
    net_rx: int
    net_tx: int
    disk_read: int
    disk_write: int
    processes: tuple[Proc, ...] | None
    cpu_count: int


@dataclass(frozen=True)
class CpuShares:
    """Each kind of CPU time over the total between two polls, 0..1."""

    user: float = 0.0
    nice: float = 0.0
    system: float = 0.0
    irq: float = 0.0
    idle: float = 0.0
    iowait: float = 0.0
    steal: float = 0.0
    #: busy share (total - idle - iowait) / total
    usage: float = 0.0
    #: the total CPU time that passed, per CPU (what a process's CPU% is a share of)
    total_weighted: float = 0.0


def cpu_shares(before: CpuTimes, after: CpuTimes, cpu_count: int) -> CpuShares:
    d = CpuTimes(*(getattr(after, f) - getattr(before, f) for f in (
        "user", "nice", "system", "idle", "iowait", "irq", "soft_irq", "steal")))
    total = d.total
    if total <= 0:
        return CpuShares()
    return CpuShares(user=d.user / total, nice=d.nice / total, system=d.system / total,
                     irq=d.irq / total, idle=d.idle / total, iowait=d.iowait / total,
                     steal=d.steal / total, usage=(total - d.idle_total) / total,
                     total_weighted=total / cpu_count if cpu_count else total)


@dataclass(frozen=True)
class ProcRow:
    """A process with its CPU time since the last poll (seconds)."""

    proc: Proc
    cpu_delta: float


@dataclass(frozen=True)
class Monitor:
    """The Monitor screen's view of one node (None fields: not polled yet)."""

    sample: MonitorSample | None = None
    shares: CpuShares = CpuShares()
    context_switches: int = 0
    process_created: int = 0
    #: processes, the busiest since the last poll first; None when the node sent none
    processes: tuple[ProcRow, ...] | None = None
    series: dict[str, tuple[float, ...]] = field(default_factory=dict)


def _push(series: tuple[float, ...], value: float) -> tuple[float, ...]:
    return (*series, value)[-MAX_POINTS:]


def _delta(after: int, before: int) -> int:
    """A counter's increase (0 when it went back: the node rebooted)."""
    return max(0, after - before)


def advance(old: Monitor, new: MonitorSample) -> Monitor:
    """The monitor after one more poll (`old.sample` is the poll before, if any)."""
    prev = old.sample
    shares = CpuShares() if prev is None else cpu_shares(prev.cpu, new.cpu, new.cpu_count)
    ctx = 0 if prev is None else _delta(new.context_switches, prev.context_switches)
    created = 0 if prev is None else _delta(new.process_created, prev.process_created)
    rx = 0 if prev is None else _delta(new.net_rx, prev.net_rx)
    tx = 0 if prev is None else _delta(new.net_tx, prev.net_tx)
    rd = 0 if prev is None else _delta(new.disk_read, prev.disk_read)
    wr = 0 if prev is None else _delta(new.disk_write, prev.disk_write)
    rows: tuple[ProcRow, ...] | None = None
    if new.processes is not None:
        before = {p.pid: p.cpu_time for p in (prev.processes or ())} if prev else {}
        # upstream: a process not in the last poll counts its CPU time from 0
        rows = tuple(sorted(
            (ProcRow(p, max(0.0, p.cpu_time - before.get(p.pid, 0.0)) if prev else 0.0)
             for p in new.processes),
            key=lambda r: (-r.cpu_delta, r.proc.pid)))
    point = {
        "user": shares.user, "system": shares.system,
        "mem": mem_usage(new.mem.total, new.mem.free, new.mem.cached, new.mem.buffers),
        "loadavg": new.load[0], "netrxbytes": float(rx), "nettxbytes": float(tx),
        "diskrdsectors": float(rd), "diskwrsectors": float(wr)}
    series = {name: _push(old.series.get(name, ()), point[name]) for name in SERIES}
    return Monitor(sample=new, shares=shares, context_switches=ctx, process_created=created,
                   processes=rows, series=series)
