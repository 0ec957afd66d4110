"""The dashboard's Monitor screen (F2, upstream v1.13.9's second screen) against real nodes,
driven headless by textual's pilot: the figures, graphs and process table of the selected
node from its own API, node switching keeps the screen, F1 goes back to the summary.

Every wait is bounded and fails naming what it waited for; nothing is judged by time."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import ContentSwitcher, DataTable, Static

from talos.machinery.client.connection import ConnectionOptions, connect
from talos.machinery.client.talosconfig import Talosconfig
from talos.talosctl.dashboard.app import DashboardApp
from talos.talosctl.dashboard.model import Update
from talos.talosctl.dashboard.sources import Feeds
from tests.e2e.talosctl.conftest import HOSTS, E2ECluster
from tests.e2e.talosctl.dashboard_pilot import until

pytestmark = pytest.mark.e2e



def _text(app: DashboardApp, wid: str) -> str:
    content = app.query_one(f"#{wid}", Static).content
    return getattr(content, "plain", str(content))


def _commands(app: DashboardApp) -> list[str]:
    table = app.query_one("#procs", DataTable)
    return [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]



async def _drive(e2e: E2ECluster) -> None:
    a, b = HOSTS[0], HOSTS[1]
    ctx = Talosconfig.load(e2e.talosconfig).get()
    conn = await connect(ConnectionOptions.from_context(ctx, endpoints=(e2e.endpoint(),)))
    try:
        updates: asyncio.Queue[Update] = asyncio.Queue()
        feeds = Feeds(conn, [a, b], 0.5, updates)
        app = DashboardApp([a, b], feeds, updates)
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(feeds.run())
            try:
                async with app.run_test(size=(160, 45)) as pilot:
                    await pilot.press("f2")
                    assert app.query_one(ContentSwitcher).current == "monitor"
                    await until(pilot, "the footer to show the Monitor screen selected",
                                 lambda: "[Monitor]" in _text(app, "footer")
                                 and "[F1: Summary]" in _text(app, "footer"),
                                 lambda: _text(app, "footer"))
                    # two polls: shares and per-process CPU are differences of two samples
                    await until(pilot, f"{a}'s figures and its processes",
                                 lambda: "1 min" in _text(app, "mon-load")
                                 and "Total" in _text(app, "mon-mem")
                                 and "Running" in _text(app, "mon-procs")
                                 and any("machined" in c for c in _commands(app)),
                                 lambda: repr([_text(app, "mon-load"), _commands(app)[:5]]))
                    assert "CPU USER/SYSTEM" in _text(app, "g-cpu")
                    assert "MEM USED" in _text(app, "g-mem")
                    assert "RX" in _text(app, "mon-net") and "WRITE" in _text(app, "mon-disk")
                    cpu = _text(app, "mon-cpu")
                    assert "User" in cpu and "CtxSw" in cpu, cpu
                    table = app.query_one("#procs", DataTable)
                    assert [str(c.label) for c in table.columns.values()] == [
                        "PID", "S", "CPU%", "MEM%", "VIRT", "RES", "TIME+", "THR", "COMMAND"]
                    await pilot.press("j")
                    await until(pilot, "the cursor one row down in the process table",
                                 lambda: table.cursor_row == 1, lambda: str(table.cursor_row))

                    await pilot.press("l")
                    await until(pilot, f"{b} selected on the Monitor screen",
                                 lambda: e2e.nodes[b].hostname in _text(app, "header")
                                 and app.query_one(ContentSwitcher).current == "monitor"
                                 and any("machined" in c for c in _commands(app)),
                                 lambda: _text(app, "header"))
                    await pilot.press("f1")
                    await until(pilot, "the summary screen back with the log title",
                                 lambda: f"Logs: machined ({b})" in _text(app, "logtitle")
                                 and app.query_one(ContentSwitcher).current == "summary",
                                 lambda: _text(app, "logtitle"))
                    await pilot.press("q")
            finally:
                running.cancel()
    finally:
        await conn.close()


def test_monitor_screen_shows_figures_graphs_and_processes_of_the_selected_node(
        e2e: E2ECluster) -> None:
    asyncio.run(_drive(e2e))
