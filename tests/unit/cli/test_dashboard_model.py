"""The dashboard's node summary: what each change does to it and how it is drawn."""

from __future__ import annotations

from talos.talosctl.dashboard import panels
from talos.talosctl.dashboard.model import (
    MAX_POINTS,
    N_A,
    CpuTimes,
    MachineStatusSeen,
    NodeSummary,
    ServiceChanged,
    ServicesListed,
    ServiceState,
    StatsSampled,
    Unreachable,
    cpu_usage,
    mem_usage,
)


def _sample(busy: float, idle: float) -> StatsSampled:
    return StatsSampled(cpu=CpuTimes(user=busy, idle=idle), boot_time=1000.0,
                        mem_total_kib=1024, mem_used=0.25, load1=0.5)


def test_cpu_usage_is_the_busy_share_of_the_time_between_samples() -> None:
    assert cpu_usage(CpuTimes(user=10, idle=10), CpuTimes(user=13, idle=11)) == 0.75
    assert cpu_usage(CpuTimes(user=10), CpuTimes(user=10)) == 0.0  # no time passed


def test_memory_use_leaves_out_cache_and_buffers_as_upstream() -> None:
    assert mem_usage(1000, 500, 200, 100) == 0.2
    assert mem_usage(0, 0, 0, 0) == 0.0


def test_first_sample_gives_no_cpu_point_later_ones_do_and_series_are_bounded() -> None:
    s = _sample(10, 10).apply(NodeSummary("n"))
    assert s.cpu == () and s.mem == (0.25,)
    for i in range(MAX_POINTS + 5):
        s = _sample(11 + i, 11 + i).apply(s)
    assert len(s.cpu) == MAX_POINTS and s.cpu[-1] == 0.5
    assert len(s.mem) == MAX_POINTS


def test_an_answer_clears_unreachable() -> None:
    s = Unreachable("timed out").apply(NodeSummary("n"))
    assert s.unreachable == "timed out"
    assert "UNREACHABLE" in panels.header(s, 2000.0, 0).plain
    s = _sample(1, 1).apply(s)
    assert s.unreachable == ""
    assert "UNREACHABLE" not in panels.header(s, 2000.0, 0).plain


def test_service_events_update_the_listed_state() -> None:
    s = ServicesListed((ServiceState("etcd", "Preparing"),
                        ServiceState("apid", "Running", "healthy"))).apply(NodeSummary("n"))
    s = ServiceChanged(ServiceState("etcd", "Running", "healthy")).apply(s)
    assert [(x.id, x.state) for x in s.services] == [("apid", "Running"), ("etcd", "Running")]
    assert "2/2 running" in panels.talos_panel(s).plain


def test_destroyed_machine_status_is_not_available() -> None:
    s = MachineStatusSeen("running", True).apply(NodeSummary("n"))
    assert (s.stage, s.ready) == ("running", "true")
    s = MachineStatusSeen("", False).apply(s)
    assert (s.stage, s.ready) == (N_A, N_A)


def test_sparkline_and_uptime_formats() -> None:
    assert panels.sparkline([0.0, 0.5, 1.0], 5) == "  \u2581\u2585\u2588"
    assert panels.sparkline([1.0] * 10, 3) == "\u2588" * 3
    assert panels.format_uptime(59) == "59s"
    assert panels.format_uptime(3723) == "1h2m3s"
    assert panels.format_uptime(90061) == "1d1h1m1s"


def test_footer_marks_unreachable_nodes() -> None:
    text = panels.footer(["a", "b"], "a", "machined", False, ["b"]).plain
    assert text.startswith("[a | b (unreachable)] --- [Summary] --- [F2: Monitor] --- "
                           "[F3: Resources] --- [Logs: machined]")
    # upstream's footer: the selected screen in brackets, the others with their key
    text = panels.footer(["a"], "a", "machined", False, screen="Monitor").plain
    assert text.startswith("[a] --- [F1: Summary] --- [Monitor] --- [F3: Resources] --- ")
    text = panels.footer(["a"], "a", "machined", False, screen="Resources").plain
    assert text.startswith("[a] --- [F1: Summary] --- [F2: Monitor] --- [Resources] --- ")


def test_monitor_shares_and_process_cpu_are_differences_of_two_polls() -> None:
    from talos.talosctl.dashboard import monitor_panels as mp
    from talos.talosctl.dashboard.model import MonitorSampled
    from talos.talosctl.dashboard.monitor_model import MemFigures, MonitorSample, Proc

    def sample(user: float, idle: float, ctx: int, proc_cpu: float, rx: int
               ) -> MonitorSampled:
        return MonitorSampled(MonitorSample(
            cpu=CpuTimes(user=user, idle=idle), context_switches=ctx, process_created=10,
            process_running=2, process_blocked=0, load=(0.5, 0.25, 0.1),
            mem=MemFigures(total=1000, free=500, cached=100, buffers=100),
            net_rx=rx, net_tx=0, disk_read=0, disk_write=0,
            processes=(Proc(1, "S", 1, 1.0, 4096, 2048, "init", "/sbin/init", "init"),
                       Proc(7, "R", 3, proc_cpu, 10_000_000, 409_600, "python3",
                            "/usr/bin/python3", "python3 -m talos machined")),
            cpu_count=2))

    s = sample(10.0, 90.0, 1000, 5.0, 100).apply(NodeSummary("n"))
    assert s.monitor.shares.usage == 0.0 and s.monitor.series["netrxbytes"] == (0.0,)
    s = sample(15.0, 95.0, 3500, 7.0, 1100).apply(s)
    m = s.monitor
    assert m.shares.user == 0.5 and m.shares.usage == 0.5 and m.context_switches == 2500
    assert m.series["user"] == (0.0, 0.5) and m.series["netrxbytes"] == (0.0, 1000.0)
    rows = mp.process_rows(m)
    # busiest first; 2 s of CPU over 10 s total on 2 CPUs = 40%; MEM% of 1000 KiB
    assert rows[0][:4] == ("7", "R", "40.0", "40.0")
    assert rows[0][4:] == ("10 MB", "410 kB", "7s", "3", "/usr/bin/python3 -m talos machined")
    assert "2.5k" in mp.cpu_info(m).plain and "15 min" in mp.load_info(m).plain
