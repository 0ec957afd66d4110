"""MachineService CPUFreqStats (mixed into MachineServicer): per-CPU frequency scaling from
sysfs, as upstream v1.13.9 reads it (procfs' `SystemCpufreq`).

One entry per `/sys/devices/system/cpu/cpuN` that has a `cpufreq` directory (kHz: current,
minimum, maximum, and the scaling governor); an entry with an unreadable frequency is left
empty, as upstream. A machine without frequency scaling (most VMs, these sandboxes: the
kernel exposes no `cpufreq` at all) answers one message with no entries, not an error.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any, TypeAlias

import grpc
from google.protobuf import empty_pb2

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from talos.machined.server.context import NodeAPI

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

CPU_DIR = "/sys/devices/system/cpu"
_CPU = re.compile(r"cpu(\d+)")


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _khz(path: str) -> int | None:
    text = _read(path)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def cpufreq_stats(cpu_dir: str = CPU_DIR) -> list[m.CPUFreqStats]:
    """Blocking: the frequency of every CPU that has cpufreq, in CPU order."""
    try:
        names = os.listdir(cpu_dir)
    except OSError:
        return []
    cpus = sorted((int(mt.group(1)), n) for n in names if (mt := _CPU.fullmatch(n)))
    out = []
    for _, name in cpus:
        d = os.path.join(cpu_dir, name, "cpufreq")
        if not os.path.isdir(d):
            continue
        # cpuinfo_cur_freq is the hardware's value (root only); scaling_cur_freq the fallback
        cur = _khz(os.path.join(d, "cpuinfo_cur_freq"))
        if cur is None:
            cur = _khz(os.path.join(d, "scaling_cur_freq"))
        low = _khz(os.path.join(d, "cpuinfo_min_freq"))
        high = _khz(os.path.join(d, "cpuinfo_max_freq"))
        if cur is None or low is None or high is None:
            out.append(m.CPUFreqStats())
            continue
        out.append(m.CPUFreqStats(current_frequency=cur, minimum_frequency=low,
                                  maximum_frequency=high,
                                  governor=_read(os.path.join(d, "scaling_governor")) or ""))
    return out


class CPUFreqMethods:
    node: NodeAPI

    async def CPUFreqStats(self, request: empty_pb2.Empty, context: Ctx
                           ) -> m.CPUFreqStatsResponse:
        stats = await asyncio.to_thread(cpufreq_stats)
        return m.CPUFreqStatsResponse(messages=[m.CPUsFreqStats(
            metadata=common_pb2.Metadata(hostname=self.node.hostname),
            cpu_freq_stats=stats)])
