"""The Monitor screen's widgets (upstream v1.13.9 `MonitorGrid`): a top row of figures, a
row of graphs and, below, the network/disk sparklines next to the process table. `show()`
draws one node's `Monitor`; the process table keeps its cursor row across updates (back to
the top on another node, as upstream)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from talos.talosctl.dashboard import monitor_panels as mp
from talos.talosctl.dashboard.monitor_model import Monitor

#: draws a graph with its title into the space of a widget
Chart = Callable[[str, Static], Text]

GRAPHS = (("g-cpu", "CPU USER/SYSTEM"), ("g-mem", "MEM USED"), ("g-load", "LOAD AVG 60sec"))


class MonitorView(Vertical):
    DEFAULT_CSS = """
    MonitorView #mon-top { height: 7; }
    MonitorView #mon-top Static { padding: 1 1 0 1; }
    MonitorView #mon-gauges { width: 1fr; }
    MonitorView #mon-cpu { width: 2fr; }
    MonitorView #mon-load { width: 1fr; }
    MonitorView #mon-procs { width: 1fr; }
    MonitorView #mon-mem { width: 2fr; }
    MonitorView #mon-graphs { height: 1fr; }
    MonitorView #mon-graphs Static { width: 1fr; padding: 0 1; }
    MonitorView #mon-bottom { height: 2fr; }
    MonitorView #mon-spark { width: 1fr; }
    MonitorView #mon-spark Static { height: 1fr; }
    MonitorView #procs { width: 3fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._node = ""
        self._shown: Monitor | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="mon-top"):
            for wid in ("mon-gauges", "mon-cpu", "mon-load", "mon-procs", "mon-mem"):
                yield Static(id=wid)
        with Horizontal(id="mon-graphs"):
            for wid, _ in GRAPHS:
                yield Static(id=wid)
        with Horizontal(id="mon-bottom"):
            with Vertical(id="mon-spark"):
                yield Static(id="mon-net")
                yield Static(id="mon-disk")
            table: DataTable[str] = DataTable(id="procs", cursor_type="row",
                                              zebra_stripes=False)
            yield table

    def on_mount(self) -> None:
        self.query_one("#procs", DataTable).add_columns(*mp.PROCESS_COLUMNS)

    def _static(self, wid: str) -> Static:
        return self.query_one(f"#{wid}", Static)

    def show(self, node: str, m: Monitor) -> None:
        """Draw `m` (node `node`); the process table is rebuilt only when the data changed."""
        self._static("mon-gauges").update(
            mp.gauges(m, self._static("mon-gauges").content_size.width or 20))
        self._static("mon-cpu").update(mp.cpu_info(m))
        self._static("mon-load").update(mp.load_info(m))
        self._static("mon-procs").update(mp.procs_info(m))
        self._static("mon-mem").update(mp.mem_info(m))
        for (wid, title), chart in zip(GRAPHS, self._charts(m), strict=True):
            self._static(wid).update(chart(title, self._static(wid)))
        net = self._static("mon-net")
        width = max(8, net.content_size.width)
        net.update(mp.sparkline_group("NET", [
            ("RX", m.series.get("netrxbytes", ()), "red"),
            ("TX", m.series.get("nettxbytes", ()), "green")], width))
        self._static("mon-disk").update(mp.sparkline_group("DISK", [
            ("READ", m.series.get("diskrdsectors", ()), "red"),
            ("WRITE", m.series.get("diskwrsectors", ()), "green")], width))
        if m is not self._shown or node != self._node:
            self._table(node, m)
            self._shown, self._node = m, node

    @staticmethod
    def _charts(m: Monitor) -> list[Chart]:
        def chart(series: list[tuple[tuple[float, ...], str]], top: float | None) -> Chart:
            def draw(title: str, where: Static) -> Text:
                size = where.content_size
                width, height = max(8, size.width), max(2, size.height - 1)
                text = Text(title.center(width) + "\n", style="bold")
                if m.sample is None:
                    return text.append(mp.NO_DATA)
                return text.append_text(mp.bar_chart(series, width, height, top))
            return draw
        return [chart([(m.series.get("user", ()), "red"),
                       (m.series.get("system", ()), "green")], 1.0),
                chart([(m.series.get("mem", ()), "red")], 1.0),
                chart([(m.series.get("loadavg", ()), "red")], None)]

    def _table(self, node: str, m: Monitor) -> None:
        table = self.query_one("#procs", DataTable)
        row = table.cursor_row if node == self._node else 0
        table.clear()
        rows = mp.process_rows(m)
        if not rows:
            table.add_row(mp.NO_DATA, *([""] * (len(mp.PROCESS_COLUMNS) - 1)))
            return
        table.add_rows(rows)
        table.move_cursor(row=min(row, len(rows) - 1), animate=False)

    def move(self, rows: int) -> None:
        """Move the process table's cursor (j/k, arrows, pages)."""
        table = self.query_one("#procs", DataTable)
        table.move_cursor(row=max(0, table.cursor_row + rows), animate=False)
