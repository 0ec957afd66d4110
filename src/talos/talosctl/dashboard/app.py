"""The dashboard's textual application: layout, keys, and applying the feeds' updates.

Upstream's three screens (v1.13.9), between a shared header line and footer (the nodes,
the screens, the keys): Summary (F1: three info panels, Talos, graphs, network; the
services line; the log pane of the selected node), Monitor (F2: figures, graphs,
network/disk sparklines, the process table; `monitor_view`) and Resources (F3: the
resource explorer; `explorer_view`). Keys as upstream's (`talosctl dashboard --help`):
F1/F2/F3 switch screen, h/Left and l/Right switch node, j/k (Down/Up) and Ctrl-D/U/F/B
scroll the logs (on Monitor: move in the process table; on Resources: in its table or
YAML), Ctrl-Z pauses, q and Ctrl-C quit (not while the explorer's filter is typed: they go
to it, as upstream). Added: s/S follow the next/previous service's log (upstream's pane
shows the kernel log only).

An unexpected error inside the app ends it with one line on stderr (`error`), never a
traceback; the terminal is restored by textual on every exit.
"""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar

from textual.actions import SkipAction
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, Input, Static

from talos.talosctl.dashboard import panels
from talos.talosctl.dashboard.explorer_view import ExplorerView
from talos.talosctl.dashboard.logpane import LogPane
from talos.talosctl.dashboard.model import (
    LogLine,
    LogRestarted,
    NodeSummary,
    NodeUpdate,
    Update,
)
from talos.talosctl.dashboard.monitor_view import MonitorView
from talos.talosctl.dashboard.sources import Feeds

#: seconds between header ticks (spinner, uptime): upstream redraws at 2 fps
TICK = 0.5


class DashboardApp(App[int]):
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    Screen { layout: vertical; }
    #header { height: 1; }
    #screens { height: 1fr; }
    #summary { height: 1fr; }
    #monitor { height: 1fr; }
    #resources { height: 1fr; }
    #info { height: 7; }
    #talos { width: 3fr; padding: 1 1 0 1; }
    #graphs { width: 3fr; padding: 1 1 0 1; }
    #network { width: 2fr; padding: 1 1 0 1; }
    #services { height: auto; max-height: 3; padding: 0 1; }
    #logtitle { height: 1; }
    #logs { height: 1fr; padding: 0 1; }
    #footer { height: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit", priority=True),
        Binding("f1", "screen('Summary')", "summary screen", priority=True),
        Binding("f2", "screen('Monitor')", "monitor screen", priority=True),
        Binding("f3", "screen('Resources')", "resources screen", priority=True),
        Binding("ctrl+c", "quit", "quit", priority=True),
        Binding("h,left", "node(-1)", "previous node"),
        Binding("l,right", "node(1)", "next node"),
        Binding("s", "service(1)", "next service log"),
        Binding("S,shift+s", "service(-1)", "previous service log"),
        Binding("j,down", "scroll(1)", "scroll down"),
        Binding("k,up", "scroll(-1)", "scroll up"),
        Binding("ctrl+d", "page(0.5)", "half page down"),
        Binding("ctrl+u", "page(-0.5)", "half page up"),
        Binding("ctrl+f", "page(1)", "page down"),
        Binding("ctrl+b", "page(-1)", "page up"),
        Binding("ctrl+z", "pause", "pause"),
    ]

    def __init__(self, nodes: list[str], feeds: Feeds, updates: asyncio.Queue[Update]) -> None:
        super().__init__()
        self.nodes = nodes
        self.feeds = feeds
        self.updates = updates
        self.summaries = {n: NodeSummary(n) for n in nodes}
        self.selected = 0
        self.screen_name = "Summary"
        self.paused = False
        self.ticks = 0
        #: the one line to print after exiting when something inside the app broke
        self.error = ""

    @property
    def node(self) -> str:
        return self.nodes[self.selected]

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        with ContentSwitcher(id="screens", initial="summary"):
            with Vertical(id="summary"):
                with Horizontal(id="info"):
                    yield Static(id="talos")
                    yield Static(id="graphs")
                    yield Static(id="network")
                yield Static(id="services")
                yield Static(id="logtitle")
                yield LogPane(self.nodes, id="logs")
            yield MonitorView(id="monitor")
            yield ExplorerView(self.feeds.state, self.node, id="resources")
        yield Static(id="footer")

    def on_mount(self) -> None:
        self.set_interval(TICK, self._tick)
        self.run_worker(self._drain(), name="updates", exit_on_error=True)
        self._redraw()

    # -- updates ---------------------------------------------------------------------------------

    async def _drain(self) -> None:
        """Apply every update as it comes; panels are redrawn once per batch."""
        while True:
            batch = [await self.updates.get()]
            while not self.updates.empty():
                batch.append(self.updates.get_nowait())
            self._apply(batch)

    def _apply(self, batch: list[Update]) -> None:
        pane = self.query_one(LogPane)
        redraw = False
        for u in batch:
            if isinstance(u, NodeUpdate):
                if u.node in self.summaries:
                    self.summaries[u.node] = u.change.apply(self.summaries[u.node])
                    redraw = True
            elif isinstance(u, LogRestarted):
                if u.service == self.feeds.log_service:
                    pane.reset(u.node)
            elif isinstance(u, LogLine):
                if u.service == self.feeds.log_service:  # not a late line of the last one
                    pane.add(u.node, u.text, error=u.error)
        if redraw and not self.paused:
            self._redraw()

    def _tick(self) -> None:
        self.ticks += 1
        if not self.paused:
            self._redraw()

    def _redraw(self) -> None:
        s = self.summaries[self.node]
        self.query_one("#header", Static).update(panels.header(s, time.time(), self.ticks))
        down = [n for n, x in self.summaries.items() if x.unreachable]
        self.query_one("#footer", Static).update(panels.footer(
            self.nodes, self.node, self.feeds.log_service, self.paused, down,
            self.screen_name))
        if self.screen_name == "Monitor":
            self.query_one(MonitorView).show(self.node, s.monitor)
            return
        if self.screen_name == "Resources":
            return
        self.query_one("#talos", Static).update(panels.talos_panel(s))
        graphs = self.query_one("#graphs", Static)
        width = max(8, graphs.content_size.width - 12)
        graphs.update(panels.graphs_panel(s, width))
        self.query_one("#network", Static).update(panels.network_panel(s))
        self.query_one("#services", Static).update(panels.services_line(s))
        self.query_one("#logtitle", Static).update(
            f"\u2500\u2500\u2500 Logs: {self.feeds.log_service} ({self.node}) \u2500\u2500\u2500")

    # -- keys --------------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if isinstance(self.focused, Input):  # q (and Ctrl-C) are typed into the filter
            raise SkipAction()
        self.exit(0)

    def action_node(self, step: int) -> None:
        """As upstream: stops at the first and last node (no wrap-around)."""
        index = min(len(self.nodes) - 1, max(0, self.selected + step))
        if index != self.selected:
            self.selected = index
            self.query_one(LogPane).show(self.node)
            self.query_one(ExplorerView).select_node(self.node)
            self._redraw()

    def action_service(self, step: int) -> None:
        """Follow the next/previous service of the selected node (machined first)."""
        ids = ["machined", *(x.id for x in self.summaries[self.node].services
                             if x.id != "machined")]
        current = self.feeds.log_service
        index = ids.index(current) if current in ids else 0
        service = ids[(index + step) % len(ids)]
        if service != current:
            for node in self.nodes:
                self.query_one(LogPane).reset(node)
            self.feeds.follow_logs(service)
            self._redraw()

    def action_screen(self, name: str) -> None:
        """F1/F2/F3: show the Summary, Monitor or Resources screen (as upstream's F-keys);
        the explorer stops its watch while it is not shown."""
        if name != self.screen_name:
            explorer = self.query_one(ExplorerView)
            if self.screen_name == "Resources":
                explorer.activate(False)
            self.screen_name = name
            self.query_one("#screens", ContentSwitcher).current = name.lower()
            if name == "Resources":
                explorer.activate(True)
            self._redraw()

    def action_scroll(self, lines: int) -> None:
        if self.screen_name == "Resources":
            self.query_one(ExplorerView).move(lines)
            return
        if self.screen_name == "Monitor":
            self.query_one(MonitorView).move(lines)
            return
        pane = self.query_one(LogPane)
        pane.scroll_relative(y=lines, animate=False)

    def action_page(self, pages: float) -> None:
        if self.screen_name == "Resources":
            explorer = self.query_one(ExplorerView)
            explorer.move(round(explorer.page_height() * pages))
            return
        if self.screen_name == "Monitor":
            view = self.query_one(MonitorView)
            view.move(round(view.query_one("#procs").size.height * pages))
            return
        pane = self.query_one(LogPane)
        pane.scroll_relative(y=round(pane.size.height * pages), animate=False)

    def action_pause(self) -> None:
        self.paused = not self.paused
        self._redraw()

    # -- failures --------------------------------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """textual would print a traceback after exiting: keep one line instead."""
        self.error = str(error) or "internal error"
        self._return_code = 1
        self._close_messages_no_wait()
