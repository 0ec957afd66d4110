"""The Resources screen (F3) widgets, as upstream v1.13.9's `ResourceExplorerGrid`: three
levels, one shown at a time (`explorer_model` says what their rows are).

- level 0: the resource types table (Enter: the type's resources; `/`: a filter line below
  the table narrows it as one types, Esc clears the filter, Enter keeps it);
- level 1: the resources of the type on the selected node, kept by a watch
  (Enter: the resource's YAML; Esc: back to the types, stopping the watch);
- level 2: the resource's YAML, scrollable (Esc: back to the list).

The types are read when the screen is first shown on a node; another node (h/l) reads again
for it: the types at level 0, the list (restarting the watch) at levels 1 and 2 (level 2
drops back to the list, as upstream). Leaving the screen stops the watch and clears the
filter; coming back restarts the watch. The reads run as this widget's workers (one per
group, a new one cancels the last), so a late answer for another node or type never lands
on the screen; their failures are shown in the table, never raised.
"""

from __future__ import annotations

import contextlib
from typing import ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from talos.api.v1alpha1 import resource_pb2, state_pb2_grpc
from talos.talosctl.dashboard import explorer_model as em
from talos.talosctl.dashboard import explorer_source
from talos.talosctl.get import Definition

LEVELS = ("rx-types-pane", "rx-list", "rx-yaml-pane")


class _Table(DataTable[str | Text]):
    """A row-cursor table whose Left/Right are left to the dashboard (node switching, as
    upstream's screen keys come before the table's)."""

    def action_cursor_left(self) -> None:
        raise SkipAction()

    def action_cursor_right(self) -> None:
        raise SkipAction()


class ExplorerView(Vertical):
    DEFAULT_CSS = """
    ExplorerView #rx-levels { height: 1fr; }
    ExplorerView #rx-types-pane { height: 1fr; }
    ExplorerView _Table { height: 1fr; border: round $foreground 50%; }
    ExplorerView #rx-filter-line { height: 1; display: none; }
    ExplorerView #rx-filter-label { width: auto; color: yellow; }
    ExplorerView #rx-filter { height: 1; width: 1fr; border: none; padding: 0; }
    ExplorerView #rx-yaml-pane { height: 1fr; border: round $foreground 50%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "filter the types"),
        Binding("escape", "back", "back"),
    ]

    def __init__(self, state: state_pb2_grpc.StateStub, node: str, *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self.node = node
        self.active = False
        self.level = 0
        #: the node's definitions, sorted; None until read (again) for the node
        self.defs: tuple[Definition, ...] | None = None
        self.filter_text = ""
        self.filtering = False
        self.chosen: Definition | None = None
        self.listing = em.Listing()
        #: the YAML shown at level 2 (plain text)
        self.yaml_text = ""

    def compose(self) -> ComposeResult:
        with ContentSwitcher(id="rx-levels", initial=LEVELS[0]):
            with Vertical(id="rx-types-pane"):
                yield _Table(id="rx-types", cursor_type="row", zebra_stripes=False)
                with Horizontal(id="rx-filter-line"):
                    yield Static(em.FILTER_LABEL, id="rx-filter-label")
                    yield Input(id="rx-filter", placeholder="")
            yield _Table(id="rx-list", cursor_type="row", zebra_stripes=False)
            with VerticalScroll(id="rx-yaml-pane"):
                yield Static(id="rx-yaml")

    def on_mount(self) -> None:
        self._types_table().border_title = em.TYPES_TITLE
        self._types_header()

    # -- parts ---------------------------------------------------------------------------------

    def _types_table(self) -> _Table:
        return self.query_one("#rx-types", _Table)

    def _list_table(self) -> _Table:
        return self.query_one("#rx-list", _Table)

    def _filter(self) -> Input:
        return self.query_one("#rx-filter", Input)

    def _show_level(self, level: int) -> None:
        self.level = level
        self.query_one("#rx-levels", ContentSwitcher).current = LEVELS[level]
        if self.active:
            self._focus_level()

    def _focus_level(self) -> None:
        if self.level == 0:
            target: Input | _Table | VerticalScroll = (
                self._filter() if self.filtering else self._types_table())
        elif self.level == 1:
            target = self._list_table()
        else:
            target = self.query_one("#rx-yaml-pane", VerticalScroll)
        target.focus()

    # -- the dashboard's calls -----------------------------------------------------------------

    def activate(self, active: bool) -> None:
        """The screen is shown (True) or left (False)."""
        self.active = active
        if not active:
            self._stop_watch()
            self._end_filter(clear=True)
            focused = self.app.focused
            if focused is not None and self in focused.ancestors:
                self.app.set_focus(None)
            return
        if self.level == 0 and self.defs is None:
            self._load_types()
        elif self.level >= 1 and self.chosen is not None and not self._watching():
            self._start_watch(self.chosen)
        self._focus_level()

    def select_node(self, node: str) -> None:
        """Another node is selected: read again for it."""
        if node == self.node:
            return
        self.node = node
        self._stop_watch()
        self._end_filter(clear=True)
        if self.level == 0:
            self.defs = None
            self._types_header()
            if self.active:
                self._load_types()
            return
        if self.level == 2:
            self._show_level(1)
        self._list_header()
        if self.active and self.chosen is not None:
            self._start_watch(self.chosen)

    def move(self, rows: int) -> None:
        """j/k and the page keys: move the table's cursor, or scroll the YAML."""
        if self.level == 2:
            self.query_one("#rx-yaml-pane", VerticalScroll).scroll_relative(
                y=rows, animate=False)
            return
        table = self._types_table() if self.level == 0 else self._list_table()
        table.move_cursor(row=max(0, table.cursor_row + rows), animate=False)

    def page_height(self) -> int:
        if self.level == 2:
            return self.query_one("#rx-yaml-pane", VerticalScroll).size.height
        table = self._types_table() if self.level == 0 else self._list_table()
        return table.size.height

    # -- level 0: the types --------------------------------------------------------------------

    def _types_header(self, note: Text | None = None) -> None:
        table = self._types_table()
        table.clear(columns=True)
        table.add_columns(*em.TYPE_COLUMNS)
        if note is not None:
            table.add_row(note, "", "", key="")

    def _load_types(self) -> None:
        self._types_header(Text(em.LOADING, style="grey50"))
        self.run_worker(self._read_types(self.node), group="rx-types", exclusive=True,
                        exit_on_error=False)

    async def _read_types(self, node: str) -> None:
        try:
            defs = await explorer_source.definitions(self.state, node)
        except Exception as e:  # shown on the screen, never raised
            self._types_header(Text(em.error_text(e), style="red"))
            return
        self.defs = em.sorted_types(defs)
        self._render_types()

    def _render_types(self) -> None:
        self._types_header()
        table = self._types_table()
        for d in em.filter_types(self.defs or (), self.filter_text):
            table.add_row(*em.type_row(d), key=d.type)
        if table.row_count:
            table.move_cursor(row=0, animate=False)
            table.scroll_home(animate=False)

    def action_filter(self) -> None:
        """`/` on the types: the filter line below the table, focused."""
        if self.level != 0 or self.filtering:
            raise SkipAction()
        self.filtering = True
        box = self._filter()
        box.value = self.filter_text
        self.query_one("#rx-filter-line").display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.filtering and event.value != self.filter_text:
            self.filter_text = event.value
            if self.defs is not None:
                self._render_types()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the filter keeps the narrowed types and goes back to the table."""
        event.stop()
        self._end_filter(clear=False)

    def _end_filter(self, *, clear: bool) -> None:
        box = self._filter()
        changed = clear and self.filter_text != ""
        if clear:
            self.filter_text = ""
        if self.filtering:
            self.filtering = False
            self.query_one("#rx-filter-line").display = False
            box.value = self.filter_text
            if self.active and self.level == 0:
                self._types_table().focus()
        if changed and self.defs is not None:
            self._render_types()

    # -- level 1: the resources of a type ------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value or ""
        if not key:  # the loading or error line
            return
        if event.data_table.id == "rx-types":
            chosen = next((d for d in self.defs or () if d.type == key), None)
            if chosen is not None:
                self._open_type(chosen)
        elif event.data_table.id == "rx-list":
            r = self.listing.resources.get(key)
            if r is not None:
                self._open_resource(r)

    def _open_type(self, d: Definition) -> None:
        self.chosen = d
        self._list_table().border_title = em.list_title(d)
        self._list_header()
        self._show_level(1)
        self._start_watch(d)

    def _list_header(self, note: Text | None = None) -> None:
        table = self._list_table()
        table.clear(columns=True)
        if self.chosen is not None:
            table.add_columns(*em.resource_header(self.chosen))
        if note is not None:
            table.add_row(note, *([""] * (len(table.columns) - 1)), key="")

    def _watching(self) -> bool:
        return any(w.group == "rx-watch" and not w.is_finished for w in self.workers)

    def _start_watch(self, d: Definition) -> None:
        self.listing = em.Listing()
        self._list_header(Text(em.LOADING, style="grey50"))
        self.run_worker(self._follow(self.node, d), group="rx-watch", exclusive=True,
                        exit_on_error=False)

    def _stop_watch(self) -> None:
        self.workers.cancel_group(self, "rx-watch")

    async def _follow(self, node: str, d: Definition) -> None:
        listing = self.listing
        try:
            async with contextlib.aclosing(explorer_source.watch(self.state, node, d)) as ev:
                async for event in ev:
                    if listing.apply(event):
                        self._render_list(d, listing)
        except Exception as e:  # shown on the screen, never raised
            self._list_header(Text(em.error_text(e), style="red"))

    def _render_list(self, d: Definition, listing: em.Listing) -> None:
        table = self._list_table()
        row = table.cursor_row
        table.clear()
        for rid in listing.ids():
            table.add_row(*em.resource_row(d, listing.resources[rid]), key=rid)
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1), animate=False)

    # -- level 2: one resource -----------------------------------------------------------------

    def _open_resource(self, r: resource_pb2.Resource) -> None:
        self.yaml_text = em.resource_text(r)
        self.query_one("#rx-yaml", Static).update(
            Syntax(self.yaml_text, "yaml", theme="ansi_dark", background_color="default",
                   word_wrap=False))
        pane = self.query_one("#rx-yaml-pane", VerticalScroll)
        pane.border_title = em.yaml_title(r)
        pane.scroll_home(animate=False)
        self._show_level(2)

    # -- Esc -----------------------------------------------------------------------------------

    def action_back(self) -> None:
        """Esc: clears the filter while typing it, else goes back one level."""
        if self.filtering:
            self._end_filter(clear=True)
        elif self.level == 2:
            self._show_level(1)
        elif self.level == 1:
            self._stop_watch()
            self.listing = em.Listing()
            self._show_level(0)
        else:
            raise SkipAction()
