"""The dashboard's Resources screen (F3, upstream v1.13.9's resource explorer) against real
nodes, driven headless by textual's pilot: the node's resource types, `/` to filter them,
a type's resources with its print columns (kept by a watch, read again for another node),
one resource's YAML, Esc back, F1 back to the summary; a reader is told a sensitive type is
refused instead of the screen failing.

Every wait is bounded and fails naming what it waited for; nothing is judged by time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from talos.machinery.client.connection import ConnectionOptions, connect
from talos.machinery.client.talosconfig import Context, Talosconfig
from talos.talosctl.dashboard.app import DashboardApp
from talos.talosctl.dashboard.model import Update
from talos.talosctl.dashboard.sources import Feeds
from tests.e2e.talosctl.conftest import HOSTS, E2ECluster
from tests.e2e.talosctl.dashboard_pilot import until

pytestmark = pytest.mark.e2e

HOSTNAME = "HostnameStatuses.net.talos.dev"
MACHINE_STATUS = "MachineStatuses.runtime.talos.dev"
#: sensitive: apid refuses it to a reader (the machine config is shown redacted instead)
SENSITIVE = "DiscoveryConfigs.cluster.talos.dev"
DENIED = "access denied: this resource is sensitive and requires elevated permissions"


def _text(app: DashboardApp, wid: str) -> str:
    content = app.query_one(f"#{wid}", Static).content
    return getattr(content, "plain", str(content))


def _table(app: DashboardApp, wid: str) -> DataTable[object]:
    return app.query_one(f"#{wid}", DataTable)


def _keys(app: DashboardApp, wid: str) -> list[str]:
    return [str(k.value) for k in _table(app, wid).rows]


def _cells(app: DashboardApp, wid: str) -> list[list[str]]:
    t = _table(app, wid)
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


def _columns(app: DashboardApp, wid: str) -> list[str]:
    return [str(c.label) for c in _table(app, wid).columns.values()]


def _watching(app: DashboardApp) -> bool:
    return any(w.group == "rx-watch" and not w.is_finished for w in app.workers)



async def _type(pilot: Pilot[int], text: str) -> None:
    for ch in text:
        await pilot.press(ch)


async def _choose(pilot: Pilot[int], app: DashboardApp, wid: str, key: str) -> None:
    """Move the cursor to row `key` with j/k (as a user would), then Enter."""
    table = _table(app, wid)
    target = table.get_row_index(key)
    while table.cursor_row != target:
        await pilot.press("j" if table.cursor_row < target else "k")
    await pilot.press("enter")


@asynccontextmanager
async def _dashboard(e2e: E2ECluster, ctx: Context, nodes: list[str]
                     ) -> AsyncIterator[tuple[DashboardApp, Pilot[int]]]:
    conn = await connect(ConnectionOptions.from_context(ctx, endpoints=(e2e.endpoint(),)))
    try:
        updates: asyncio.Queue[Update] = asyncio.Queue()
        feeds = Feeds(conn, nodes, 0.5, updates)
        app = DashboardApp(nodes, feeds, updates)
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(feeds.run())
            try:
                async with app.run_test(size=(180, 50)) as pilot:
                    yield app, pilot
            finally:
                running.cancel()
    finally:
        await conn.close()


async def _drive_admin(e2e: E2ECluster) -> None:
    a, b = HOSTS[0], HOSTS[1]
    ctx = Talosconfig.load(e2e.talosconfig).get()
    async with _dashboard(e2e, ctx, [a, b]) as (app, pilot):
        await pilot.press("f3")
        assert app.query_one("#screens", ContentSwitcher).current == "resources"
        view: Any = app.query_one("#resources")  # the explorer (its level, node, YAML)
        await until(pilot, "the footer to show the Resources screen selected",
                     lambda: "[Resources]" in _text(app, "footer")
                     and "[F1: Summary] --- [F2: Monitor] --- [Resources]"
                     in _text(app, "footer"), lambda: _text(app, "footer"))
        # level 0: the node's resource types, sorted, with their namespace and aliases
        await until(pilot, f"{a}'s resource types",
                     lambda: HOSTNAME in _keys(app, "rx-types"),
                     lambda: _cells(app, "rx-types")[:3])
        types = _table(app, "rx-types")
        assert types.border_title == "Resource Types (Enter: select, /: filter)"
        assert _columns(app, "rx-types") == ["TYPE", "NAMESPACE", "ALIASES"]
        everything = _keys(app, "rx-types")
        assert MACHINE_STATUS in everything and everything == sorted(everything)
        row = _cells(app, "rx-types")[everything.index(HOSTNAME)]
        assert row[:2] == [HOSTNAME, "network"] and "hostname" in row[2].split(", "), row

        # `/`: the filter line; q, l and h are typed into it (they neither quit nor switch)
        await pilot.press("slash")
        box = app.query_one("#rx-filter", Input)
        line = app.query_one("#rx-filter-line")
        await until(pilot, "the filter line focused", lambda: line.display and box.has_focus,
                     lambda: (line.display, app.focused))
        assert _text(app, "rx-filter-label") == "filter: "
        await _type(pilot, "qlh")
        await until(pilot, "the filter to hold what was typed", lambda: box.value == "qlh",
                     lambda: box.value)
        assert app.is_running and view.node == a
        # Esc clears the filter: every type again
        await pilot.press("escape")
        await until(pilot, "the cleared filter to show every type",
                     lambda: not line.display and _keys(app, "rx-types") == everything,
                     lambda: (line.display, len(_keys(app, "rx-types"))))
        # typing narrows as one types (type or alias, any case); Enter keeps the filter
        await pilot.press("slash")
        await _type(pilot, "HOSTname")
        await until(pilot, "the types narrowed by the filter",
                     lambda: HOSTNAME in _keys(app, "rx-types")
                     and MACHINE_STATUS not in _keys(app, "rx-types"),
                     lambda: _keys(app, "rx-types"))
        assert all("hostname" in k.lower() or "hostname" in c[2].lower()
                   for k, c in zip(_keys(app, "rx-types"), _cells(app, "rx-types"),
                                   strict=True))
        await pilot.press("enter")
        await until(pilot, "the filter kept and the types table focused",
                     lambda: not line.display and types.has_focus,
                     lambda: (line.display, app.focused))
        assert MACHINE_STATUS not in _keys(app, "rx-types")

        # Enter on a type: its resources on the node, with the definition's print columns
        await _choose(pilot, app, "rx-types", HOSTNAME)
        listed = _table(app, "rx-list")
        await until(pilot, f"{a}'s hostname resource with its columns",
                     lambda: [r[0] for r in _cells(app, "rx-list")] == ["hostname"]
                     and _cells(app, "rx-list")[0][4] == e2e.nodes[a].hostname,
                     lambda: _cells(app, "rx-list"))
        assert _columns(app, "rx-list") == ["ID", "VERSION", "PHASE", "OWNER", "HOSTNAME",
                                            "DOMAINNAME"]
        row = _cells(app, "rx-list")[0]
        assert row[2] == "running" and int(row[1]) >= 1 and row[3], row
        # upstream's title: the display type, its namespace, the keys
        assert listed.border_title == ("HostnameStatus (ns: network) \u2014 "
                                       "Enter: view YAML, Esc: back")
        assert listed.has_focus and _watching(app)

        # Enter on a resource: its YAML, as `talosctl get -o yaml` (without the node line)
        await pilot.press("enter")
        await until(pilot, "the resource's YAML", lambda: view.level == 2,
                     lambda: view.level)
        assert "    id: hostname\n" in view.yaml_text, view.yaml_text
        assert "    type: HostnameStatuses.net.talos.dev\n" in view.yaml_text
        assert "spec:\n" in view.yaml_text
        assert f"hostname: {e2e.nodes[a].hostname}\n" in view.yaml_text
        pane = app.query_one("#rx-yaml-pane")
        assert pane.border_title == "network / hostname (Esc: back)"
        # Esc: back to the list, then to the (still filtered) types, the watch stopped
        await pilot.press("escape")
        await until(pilot, "the list back", lambda: view.level == 1 and listed.has_focus,
                     lambda: view.level)
        await pilot.press("escape")
        await until(pilot, "the types back and the watch stopped",
                     lambda: view.level == 0 and types.has_focus and not _watching(app),
                     lambda: (view.level, _watching(app)))
        assert MACHINE_STATUS not in _keys(app, "rx-types")

        await _choose(pilot, app, "rx-types", HOSTNAME)
        await until(pilot, f"{a}'s hostname listed",
                     lambda: bool(_cells(app, "rx-list"))
                     and _cells(app, "rx-list")[0][4] == e2e.nodes[a].hostname,
                     lambda: _cells(app, "rx-list"))
        # leaving the screen stops the watch, coming back starts it again
        await pilot.press("f2")
        await until(pilot, "the watch stopped on the Monitor screen",
                     lambda: not _watching(app), lambda: _watching(app))
        await pilot.press("f3")
        await until(pilot, "the list again, watched, on coming back",
                     lambda: _watching(app) and listed.has_focus
                     and [r[0] for r in _cells(app, "rx-list")] == ["hostname"],
                     lambda: (_watching(app), _cells(app, "rx-list")))
        # another node (l) at the list: read again for it
        await pilot.press("l")
        await until(pilot, f"{b}'s hostname listed after switching node",
                     lambda: view.node == b and bool(_cells(app, "rx-list"))
                     and _cells(app, "rx-list")[0][4] == e2e.nodes[b].hostname,
                     lambda: (view.node, _cells(app, "rx-list")))

        # F1: the summary again, the watch stopped
        await pilot.press("f1")
        await until(pilot, "the summary screen back with the log title",
                     lambda: f"Logs: machined ({b})" in _text(app, "logtitle")
                     and app.query_one("#screens", ContentSwitcher).current == "summary"
                     and not _watching(app),
                     lambda: (_text(app, "logtitle"), _watching(app)))
        await pilot.press("q")
        await until(pilot, "the dashboard to quit", lambda: not app.is_running,
                     lambda: app.is_running)


async def _drive_reader(e2e: E2ECluster) -> None:
    a = HOSTS[0]
    ctx = Context.from_pems(endpoints=(a,), nodes=(a,), ca=e2e.pki.ca_pem,
                            client=e2e.pki.client("os:reader"))
    async with _dashboard(e2e, ctx, [a]) as (app, pilot):
        await pilot.press("f3")
        assert app.query_one("#screens", ContentSwitcher).current == "resources"
        view: Any = app.query_one("#resources")
        await until(pilot, "the resource types for a reader",
                     lambda: SENSITIVE in _keys(app, "rx-types"),
                     lambda: _cells(app, "rx-types")[:3])
        await _choose(pilot, app, "rx-types", SENSITIVE)
        await until(pilot, "the refusal explained in the list",
                     lambda: bool(_cells(app, "rx-list"))
                     and _cells(app, "rx-list")[0][0] == DENIED,
                     lambda: _cells(app, "rx-list"))
        # the screen still works: back, and another type lists
        await pilot.press("escape")
        await until(pilot, "the types back", lambda: view.level == 0, lambda: view.level)
        await _choose(pilot, app, "rx-types", HOSTNAME)
        await until(pilot, "a reader's hostname resource",
                     lambda: [r[0] for r in _cells(app, "rx-list")] == ["hostname"],
                     lambda: _cells(app, "rx-list"))
        assert app.is_running and not app.error
        await pilot.press("q")


def test_resources_screen_lists_types_filters_shows_resources_and_yaml(
        e2e: E2ECluster) -> None:
    asyncio.run(_drive_admin(e2e))


def test_resources_screen_explains_a_refused_sensitive_type_to_a_reader(
        e2e: E2ECluster) -> None:
    asyncio.run(_drive_reader(e2e))
