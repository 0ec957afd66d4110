"""How a node summary is drawn: the header line, the three info panels, the footer.

Pure functions from a `NodeSummary` to rich `Text`, laid out as upstream's summary screen
(v1.13.9 `components/header.go`, `talosinfo.go`, `networkinfo.go`, `footer.go`): a header
with hostname, version, uptime and usage; a Talos panel (stage, ready, etcd, services); a
graphs panel (CPU and memory over time as sparklines, load); a network panel (host and
addresses); a footer listing the nodes (the selected one in red) and the keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from talos.talosctl.dashboard.model import N_A, NodeSummary

#: upstream's spinner (CP437-compatible box corners), one step per tick
SPINNER = ("\u2510", "\u2518", "\u2514", "\u250c")
_BARS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"

KEYS_HELP = ("h/\u2190 l/\u2192 node   F1-F3 screen   s/S log service   j/k scroll   "
             "^Z pause   q quit")


def sparkline(values: Sequence[float], width: int) -> str:
    """The last `width` values (0..1) as block characters; padded with spaces on the left."""
    if width <= 0:
        return ""
    shown = list(values)[-width:]
    bars = "".join(_BARS[min(len(_BARS) - 1, max(0, round(v * (len(_BARS) - 1))))]
                   for v in shown)
    return bars.rjust(width)


def format_uptime(seconds: float) -> str:
    """As upstream's formatUptime (Go duration, days split off): `2d3h4m5s`, `4m5s`."""
    total = max(0, round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        body = f"{hours}h{minutes}m{secs}s"
    elif minutes:
        body = f"{minutes}m{secs}s"
    else:
        body = f"{secs}s"
    return f"{days}d{body}" if days else body


def _ibytes(kib: int) -> str:
    """go-humanize IBytes of a KiB count: `7.8 GiB`."""
    value = float(kib) * 1024
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if value >= 10 or unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return N_A  # pragma: no cover - the loop always returns


def _percent(series: Sequence[float]) -> str:
    return f"{series[-1] * 100:.1f}%" if series else N_A


def header(s: NodeSummary, now: float, tick: int) -> Text:
    """`┐ hostname Talos (version): uptime 1h2m3s, 7.8 GiB RAM, CPU 3.0%, RAM 41.2%`."""
    uptime = format_uptime(now - s.boot_time) if s.boot_time else N_A
    total = _ibytes(s.mem_total_kib) if s.mem_total_kib else N_A
    text = Text()
    text.append(SPINNER[tick % len(SPINNER)] + " ", style="green")
    text.append(s.hostname, style="bold yellow")
    text.append(f" Talos ({s.version}): uptime {uptime}, {total} RAM, "
                f"CPU {_percent(s.cpu)}, RAM {_percent(s.mem)}")
    if s.unreachable:
        text.append("  UNREACHABLE", style="bold red")
    return text


def _fields(rows: Sequence[tuple[str, str | Text]]) -> Text:
    width = max(len(name) for name, _ in rows)
    text = Text()
    for i, (name, value) in enumerate(rows):
        if i:
            text.append("\n")
        text.append(name.ljust(width + 1), style="bold")
        text.append(value if isinstance(value, Text) else Text(value))
    return text


def _status(value: str) -> Text:
    good = value in ("running", "true", "Running", "healthy")
    bad = value in ("false", "Failed", "unhealthy") or value.startswith("UNREACHABLE")
    return Text(value, style="green" if good else "red" if bad else "")


def talos_panel(s: NodeSummary) -> Text:
    """STAGE, READY, ETCD (service state and member ID), SERVICES (state counts)."""
    etcd = s.service("etcd")
    etcd_text = Text(N_A)
    if etcd is not None:
        etcd_text = _status(etcd.state)
        if s.etcd_member != N_A:
            etcd_text.append(f" (member {s.etcd_member})")
    running = sum(1 for x in s.services if x.state == "Running")
    services = Text(f"{running}/{len(s.services)} running" if s.services else N_A)
    failed = [x.id for x in s.services if x.state == "Failed"]
    if failed:
        services.append(", failed: " + ", ".join(failed), style="red")
    rows: list[tuple[str, str | Text]] = [
        ("NODE", s.node), ("STAGE", _status(s.stage)), ("READY", _status(s.ready)),
        ("ETCD", etcd_text), ("SERVICES", services)]
    if s.unreachable:
        rows.append(("STATUS", Text("UNREACHABLE: " + s.unreachable, style="bold red")))
    return _fields(rows)


def graphs_panel(s: NodeSummary, width: int = 30) -> Text:
    """CPU and memory use over time (sparklines, newest right) and the 1-minute load."""
    load = f"{s.load1:.2f}" if s.load1 is not None else N_A
    return _fields([
        ("CPU", Text(f"{_percent(s.cpu):>6} ").append(sparkline(s.cpu, width),
                                                      style="cyan")),
        ("MEM", Text(f"{_percent(s.mem):>6} ").append(sparkline(s.mem, width),
                                                      style="magenta")),
        ("LOAD", load)])


def network_panel(s: NodeSummary) -> Text:
    """HOST and IP (the node's current addresses)."""
    return _fields([("HOST", s.hostname),
                    ("IP", ", ".join(s.addresses) if s.addresses else N_A)])


def services_line(s: NodeSummary) -> Text:
    """`apid Running ✓  etcd Running ?  ...`: every service with its state and health."""
    if not s.services:
        return Text("SERVICES " + N_A)
    text = Text()
    for i, svc in enumerate(s.services):
        if i:
            text.append("  ")
        text.append(svc.id + " ", style="bold")
        text.append(svc.state, style=_status(svc.state).style)
        mark = {"healthy": " \u221a", "unhealthy": " \u00d7"}.get(svc.health, "")
        if mark:
            text.append(mark, style="green" if svc.health == "healthy" else "red")
    return text


#: the screens, by key, as upstream's talosctl dashboard (v1.13.9: Summary, Monitor,
#: Resources)
SCREENS = (("F1", "Summary"), ("F2", "Monitor"), ("F3", "Resources"))


def footer(nodes: Sequence[str], selected: str, log_service: str, paused: bool,
           unreachable: Sequence[str] = (), screen: str = "Summary") -> Text:
    """`[node1 | node2 (unreachable)] --- [Summary] --- [F2: Monitor] --- [F3: Resources]
    --- [Logs: machined] --- keys`; the selected node and screen in red (upstream's
    footer), nodes that do not answer marked."""
    text = Text("[")
    for i, node in enumerate(nodes):
        if i:
            text.append(" | ")
        text.append(node or "(local)", style="bold red" if node == selected else "")
        if node in unreachable:
            text.append(" (unreachable)", style="red")
    text.append("] --- ")
    for i, (key, name) in enumerate(SCREENS):
        if i:
            text.append(" --- ")
        if name == screen:
            text.append("[")
            text.append(name, style="bold red")
            text.append("]")
        else:
            text.append(f"[{key}: {name}]")
    text.append(f" --- [Logs: {log_service}] --- {KEYS_HELP}")
    if paused:
        text.append(" --- ")
        text.append("[PAUSED]", style="yellow")
    return text
