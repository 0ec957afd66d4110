"""How the Monitor screen draws a node (upstream v1.13.9 `internal/pkg/dashboard/monitor.go`
and `components/{gauges,info,graphs,sparklines,tables}.go`): pure functions from a
`Monitor` to rich `Text` and table rows.

- top row: CPU/MEM gauges, CPU (shares, context switches), LOAD (1/5/15 min), PROCS
  (created, running, blocked), MEMORY (total, used, free, shared, buffers, cache, available,
  swapped);
- graphs: CPU USER/SYSTEM, MEM USED, LOAD AVG 60sec (newest right);
- NET RX/TX and DISK READ/WRITE sparklines, and the process table (PID S CPU% MEM% VIRT RES
  TIME+ THR COMMAND, the busiest since the last poll first).

Figures are formatted as upstream's (go-humanize `Bytes`/`ComputeSI`, Go durations).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text

from talos.talosctl.dashboard.monitor_model import Monitor, Proc

NO_DATA = "No data"
PROCESS_COLUMNS = ("PID", "S", "CPU%", "MEM%", "VIRT", "RES", "TIME+", "THR", "COMMAND")
_VBARS = " \u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"
_SI = ("", "k", "M", "G", "T", "P", "E")


def si_bytes(n: int) -> str:
    """go-humanize `Bytes`: SI units, `83 MB`, `1.2 GB`, `512 B`."""
    if n < 10:
        return f"{n} B"
    exp = min(math.floor(math.log(n) / math.log(1000)), len(_SI) - 1)
    value = math.floor(n / 1000 ** exp * 10 + 0.5) / 10
    unit = ("B", "kB", "MB", "GB", "TB", "PB", "EB")[exp]
    return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"


def compute_si(value: float) -> tuple[float, str]:
    """go-humanize `ComputeSI` for values >= 0: (1.5, "k") for 1500."""
    if value <= 0:
        return 0.0, ""
    exp = min(max(0, math.floor(math.log10(value) / 3)), len(_SI) - 1)
    return value / 1000 ** exp, _SI[exp]


def go_duration(seconds: int) -> str:
    """Go's `time.Duration.String()` of whole seconds: `0s`, `45s`, `1m23s`, `2h3m4s`."""
    if seconds <= 0:
        return "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def _bold(text: Text, value: str) -> None:
    text.append(value, style="bold")


def gauge(label: str, share: float, width: int) -> Text:
    """`CPU` and a bar filled to `share` with the percentage (upstream's gauge)."""
    width = max(4, width)
    filled = round(max(0.0, min(1.0, share)) * width)
    text = Text(label + "\n", style="bold")
    text.append(" " * filled, style="reverse")
    text.append(" " * (width - filled), style="on grey23")
    text.append(f" {round(share * 100)}%")
    return text


def gauges(m: Monitor, width: int) -> Text:
    if m.sample is None:
        return Text(NO_DATA)
    mem = m.series.get("mem", (0.0,))[-1]
    return gauge("CPU", m.shares.usage, width - 5) + Text("\n\n") + gauge("MEM", mem, width - 5)


def cpu_info(m: Monitor) -> Text:
    if m.sample is None:
        return Text(NO_DATA)
    s = m.shares
    ctx, suffix = compute_si(float(m.context_switches))
    text = Text("CPU\n", style="bold")
    for i, (name, value) in enumerate((("User", f"{s.user * 100:5.1f}%"),
                                       ("Nice", f"{s.nice * 100:5.1f}%"),
                                       ("System", f"{s.system * 100:5.1f}%"),
                                       ("IRQ", f"{s.irq * 100:5.1f}%"),
                                       ("Idle", f"{s.idle * 100:5.1f}%"),
                                       ("Iowait", f"{s.iowait * 100:5.1f}%"),
                                       ("Steal", f"{s.steal * 100:5.1f}%"),
                                       ("CtxSw", f"{ctx:5.1f}{suffix}"))):
        text.append(f"{name:<7}")
        _bold(text, value)
        text.append("  " if i % 2 == 0 else "\n")
    return text


def load_info(m: Monitor) -> Text:
    if m.sample is None:
        return Text(NO_DATA)
    one, five, fifteen = m.sample.load
    text = Text("LOAD\n", style="bold")
    for name, value in (("1 min ", one), ("5 min ", five), ("15 min", fifteen)):
        text.append(f"{name} ")
        _bold(text, f"{value:6.2f}")
        text.append("\n")
    return text


def procs_info(m: Monitor) -> Text:
    if m.sample is None:
        return Text(NO_DATA)
    created, suffix = compute_si(float(m.process_created))
    text = Text("PROCS\n", style="bold")
    for name, value in (("Created", f"{created:5.1f}{suffix}"),
                        ("Running", f"{m.sample.process_running:5d}"),
                        ("Blocked", f"{m.sample.process_blocked:5d}")):
        text.append(f"{name} ")
        _bold(text, value)
        text.append("\n")
    return text


def mem_info(m: Monitor) -> Text:
    if m.sample is None:
        return Text(NO_DATA)
    mem = m.sample.mem
    rows = ((("Total", mem.total), ("Buffers", mem.buffers)),
            (("Used", mem.used), ("Cache", mem.cached)),
            (("Free", mem.free), ("Avail", mem.available)),
            (("Shared", mem.shared), ("Swapped", mem.swap_total - mem.swap_free)))
    text = Text("MEMORY\n", style="bold")
    for (a, av), (b, bv) in rows:
        text.append(f"{a:<6} ")
        _bold(text, f"{si_bytes(max(0, av) << 10):>8}")
        text.append(f"  {b:<7} ")
        _bold(text, f"{si_bytes(max(0, bv) << 10):>8}")
        text.append("\n")
    return text


def columns(values: Sequence[float], width: int, top: float) -> list[float]:
    """The last `width` values as heights 0..1 of `top` (right-aligned, zero-padded)."""
    shown = list(values)[-width:] if width > 0 else []
    scale = top if top > 0 else 1.0
    heights = [max(0.0, min(1.0, v / scale)) for v in shown]
    return [0.0] * (width - len(heights)) + heights


def bar_chart(series: Sequence[tuple[Sequence[float], str]], width: int, height: int,
              top: float | None = None) -> Text:
    """Vertical bars, one column per point, `height` rows of eighth blocks; several series
    are stacked (first at the bottom), each in its colour. `top` is the value of a full
    column (default: the largest stacked value shown)."""
    width, height = max(1, width), max(1, height)
    if top is None:
        sums = [sum(vals) for vals in zip(*(list(v)[-width:] for v, _ in series), strict=False)]
        top = max(sums, default=0.0)
    stacks = [columns(values, width, top or 1.0) for values, _ in series]
    rows: list[Text] = []
    for row in range(height - 1, -1, -1):
        line = Text()
        for col in range(width):
            tops = []  # each series' top, stacked, in rows
            acc = 0.0
            for stack in stacks:
                acc += stack[col] * height
                tops.append(acc)
            fill = max(0.0, min(1.0, acc - row))
            level = round(fill * 8)
            if level == 0:
                line.append(" ")
                continue
            # the colour of the series that reaches into this cell first
            owner = next(i for i, t in enumerate(tops) if t > row)
            line.append(_VBARS[level], style=series[owner][1])
        rows.append(line)
    return Text("\n").join(rows)


def sparkline_group(title: str, named: Sequence[tuple[str, Sequence[float], str]],
                    width: int) -> Text:
    """` NET` then `RX` / `TX` lines, each a one-row chart scaled to its own maximum."""
    text = Text(" " + title + "\n", style="bold")
    for i, (label, values, colour) in enumerate(named):
        if i:
            text.append("\n")
        last = values[-1] if values else 0.0
        text.append(f" {label} {si_bytes(int(last)) if 'NET' in title else int(last)}\n")
        text.append(" ")
        text.append_text(bar_chart([(values, colour)], width - 1, 1))
    return text


def command_line(p: Proc) -> str:
    """What upstream shows as COMMAND: the arguments with the executable's full path in
    place of argv[0], else the command name; non-printable characters as spaces."""
    if not p.executable:
        args = p.command
    elif p.args and p.args.split()[0] == p.executable.split()[0].rsplit("/", 1)[-1]:
        args = p.args.replace(p.args.split()[0], p.executable, 1)
    else:
        args = p.args
    return "".join(c if 32 <= ord(c) <= 126 else " " for c in args)


def process_rows(m: Monitor) -> list[tuple[str, ...]]:
    """The table rows (strings, in PROCESS_COLUMNS order), busiest first."""
    if m.sample is None or m.processes is None:
        return []
    total_mem = (m.sample.mem.total * 1024) or 1
    weighted = m.shares.total_weighted or 1.0
    return [(str(r.proc.pid), r.proc.state, f"{r.cpu_delta / weighted * 100:.1f}",
             f"{r.proc.resident / total_mem * 100:.1f}", si_bytes(r.proc.virtual),
             si_bytes(r.proc.resident), go_duration(int(r.proc.cpu_time)),
             str(r.proc.threads), command_line(r.proc))
            for r in m.processes]
