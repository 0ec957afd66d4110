"""System statistics read from /proc (blocking: callers run these in a thread).

Units follow Talos (which uses the procfs library): memory in kB as /proc/meminfo has it,
CPU times in seconds, process memory in bytes.
"""

from __future__ import annotations

import os

import psutil

from talos.api.machine import machine_pb2 as m

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def meminfo() -> m.MemInfo:
    fields = {f.name for f in m.MemInfo.DESCRIPTOR.fields}
    values: dict[str, int] = {}
    for line in _read("/proc/meminfo").splitlines():
        key, _, rest = line.partition(":")
        name = key.strip().lower().replace("(", "").replace(")", "").replace("_", "")
        if name in fields and rest.split():
            values[name] = int(rest.split()[0])
    return m.MemInfo(**values)


def processes() -> list[m.ProcessInfo]:
    out = []
    attrs = ["pid", "ppid", "status", "num_threads", "cpu_times", "memory_info", "name",
             "exe", "cmdline"]
    for p in psutil.process_iter(attrs, ad_value=None):
        i = p.info
        cpu = i["cpu_times"]
        mem = i["memory_info"]
        status = i["status"] or ""
        out.append(m.ProcessInfo(
            pid=i["pid"], ppid=i["ppid"] or 0,
            state=_STATE.get(status, status[:1].upper()),
            threads=i["num_threads"] or 0,
            cpu_time=(cpu.user + cpu.system) if cpu else 0.0,
            virtual_memory=mem.vms if mem else 0, resident_memory=mem.rss if mem else 0,
            command=i["name"] or "", executable=i["exe"] or "",
            args=" ".join(i["cmdline"] or [])))
    return out


_STATE = {psutil.STATUS_RUNNING: "R", psutil.STATUS_SLEEPING: "S",
          psutil.STATUS_DISK_SLEEP: "D", psutil.STATUS_STOPPED: "T",
          psutil.STATUS_TRACING_STOP: "t", psutil.STATUS_ZOMBIE: "Z", psutil.STATUS_DEAD: "X",
          psutil.STATUS_IDLE: "I", psutil.STATUS_PARKED: "P"}


def _cpu(values: list[str]) -> m.CPUStat:
    names = ["user", "nice", "system", "idle", "iowait", "irq", "soft_irq", "steal", "guest",
             "guest_nice"]
    return m.CPUStat(**{n: int(v) / CLK_TCK for n, v in zip(names, values, strict=False)})


def system_stat() -> m.SystemStat:
    st = m.SystemStat()
    for line in _read("/proc/stat").splitlines():
        parts = line.split()
        if not parts:
            continue
        key, vals = parts[0], parts[1:]
        if key == "cpu":
            st.cpu_total.CopyFrom(_cpu(vals))
        elif key.startswith("cpu"):
            st.cpu.append(_cpu(vals))
        elif key == "intr":
            st.irq_total = int(vals[0])
            st.irq.extend(int(v) for v in vals[1:])
        elif key == "ctxt":
            st.context_switches = int(vals[0])
        elif key == "btime":
            st.boot_time = int(vals[0])
        elif key == "processes":
            st.process_created = int(vals[0])
        elif key == "procs_running":
            st.process_running = int(vals[0])
        elif key == "procs_blocked":
            st.process_blocked = int(vals[0])
        elif key == "softirq":
            st.soft_irq_total = int(vals[0])
            names = ["hi", "timer", "net_tx", "net_rx", "block", "block_io_poll", "tasklet",
                     "sched", "hrtimer", "rcu"]
            st.soft_irq.CopyFrom(m.SoftIRQStat(
                **{n: int(v) for n, v in zip(names, vals[1:], strict=False)}))
    return st


_CPUINFO_KEYS = {
    "processor": ("processor", int), "vendor_id": ("vendor_id", str),
    "cpu family": ("cpu_family", str), "model": ("model", str),
    "model name": ("model_name", str), "stepping": ("stepping", str),
    "microcode": ("microcode", str), "cpu MHz": ("cpu_mhz", float),
    "cache size": ("cache_size", str), "physical id": ("physical_id", str),
    "siblings": ("siblings", int), "core id": ("core_id", str),
    "cpu cores": ("cpu_cores", int), "apicid": ("apic_id", str),
    "initial apicid": ("initial_apic_id", str), "fpu": ("fpu", str),
    "fpu_exception": ("fpu_exception", str), "cpuid level": ("cpu_id_level", int),
    "wp": ("wp", str), "bogomips": ("bogo_mips", float),
    "clflush size": ("cl_flush_size", int), "cache_alignment": ("cache_alignment", int),
    "address sizes": ("address_sizes", str), "power management": ("power_management", str),
}


def cpu_info() -> list[m.CPUInfo]:
    out = []
    for block in _read("/proc/cpuinfo").strip().split("\n\n"):
        info = m.CPUInfo()
        for line in block.splitlines():
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key in ("flags", "bugs"):
                getattr(info, key).extend(value.split())
            elif key in _CPUINFO_KEYS:
                name, conv = _CPUINFO_KEYS[key]
                try:
                    setattr(info, name, conv(value))
                except ValueError:
                    pass
        out.append(info)
    return out


_DISK_FIELDS = ["read_completed", "read_merged", "read_sectors", "read_time_ms",
                "write_completed", "write_merged", "write_sectors", "write_time_ms",
                "io_in_progress", "io_time_ms", "io_time_weighted_ms", "discard_completed",
                "discard_merged", "discard_sectors", "discard_time_ms"]


def disk_stats() -> tuple[m.DiskStat, list[m.DiskStat]]:
    total = m.DiskStat(name="total")
    devices = []
    for line in _read("/proc/diskstats").splitlines():
        parts = line.split()
        if len(parts) < 14:
            continue
        d = m.DiskStat(name=parts[2], **{f: int(v) for f, v in zip(
            _DISK_FIELDS, parts[3:], strict=False)})
        devices.append(d)
        for f in _DISK_FIELDS:
            setattr(total, f, getattr(total, f) + getattr(d, f))
    return total, devices


def mounts() -> list[m.MountStat]:
    out = []
    for line in _read("/proc/self/mounts").splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        dev, target = parts[0], parts[1].replace("\\040", " ")
        try:
            sv = os.statvfs(target)
        except OSError:
            continue
        out.append(m.MountStat(filesystem=dev, size=sv.f_blocks * sv.f_frsize,
                               available=sv.f_bavail * sv.f_frsize, mounted_on=target))
    return out


_NET_FIELDS = ["rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "rx_fifo", "rx_frame",
               "rx_compressed", "rx_multicast", "tx_bytes", "tx_packets", "tx_errors",
               "tx_dropped", "tx_fifo", "tx_collisions", "tx_carrier", "tx_compressed"]


def net_devices() -> tuple[m.NetDev, list[m.NetDev]]:
    total = m.NetDev(name="total")
    devices = []
    for line in _read("/proc/net/dev").splitlines()[2:]:
        name, _, rest = line.partition(":")
        vals = rest.split()
        if len(vals) < 16:
            continue
        d = m.NetDev(name=name.strip(), **{f: int(v) for f, v in zip(
            _NET_FIELDS, vals, strict=False)})
        devices.append(d)
        for f in _NET_FIELDS:
            setattr(total, f, getattr(total, f) + getattr(d, f))
    return total, devices
