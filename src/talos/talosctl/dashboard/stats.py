"""CPU and memory usage from two samples, as upstream's dashboard computes them (v1.13.9
`apidata.Node`): shared by the Summary and Monitor screens' models."""

from __future__ import annotations

from dataclasses import dataclass

#: points kept per time series (upstream keeps as many as its widest graph shows)
MAX_POINTS = 120


@dataclass(frozen=True)
class CpuTimes:
    """Cumulative CPU times of all CPUs (`SystemStat.cpu_total`), in seconds."""

    user: float = 0.0
    nice: float = 0.0
    system: float = 0.0
    idle: float = 0.0
    iowait: float = 0.0
    irq: float = 0.0
    soft_irq: float = 0.0
    steal: float = 0.0

    @property
    def idle_total(self) -> float:
        return self.idle + self.iowait

    @property
    def total(self) -> float:
        return (self.user + self.nice + self.system + self.irq + self.steal + self.soft_irq
                + self.idle_total)


def cpu_usage(before: CpuTimes, after: CpuTimes) -> float:
    """Busy share of the CPU time between two samples, 0..1 (upstream's "usage": non-idle
    over total of the difference); 0 when no time passed."""
    total = after.total - before.total
    if total <= 0:
        return 0.0
    busy = total - (after.idle_total - before.idle_total)
    return min(1.0, max(0.0, busy / total))


def mem_usage(total_kib: int, free_kib: int, cached_kib: int, buffers_kib: int) -> float:
    """Used share of memory, 0..1, as upstream: (total - free - cached - buffers) / total."""
    if total_kib <= 0:
        return 0.0
    used = total_kib - free_kib - cached_kib - buffers_kib
    return min(1.0, max(0.0, used / total_kib))
