"""How a long operation shows its per-node progress.

`PlainView` prints one line per sequence/phase/service event to stderr
(`<node>: phase stopServices: start`), for pipes, logs and tests. `LiveView` (stderr is a
terminal) keeps a rich Live table with one row per node — NODE, SEQUENCE, PHASE, TASK,
STATE, ELAPSED — that is cleared at the end, leaving one result line per node (the result
is said once). `choose_view()` picks one.

Both take the same calls: `showing(labels)` around the operation, `event(label, ev)` for each
decoded Events message, `note(label, text)` for what the client itself sees (the API going
away), `finish(label, ok, message)` once a node's outcome is known.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import click

from talos.talosctl.events import EventView
from talos.talosctl.timefmt import go_duration


class ProgressView(Protocol):
    def showing(self, labels: list[str]) -> Any: ...
    def event(self, label: str, ev: EventView) -> None: ...
    def note(self, label: str, text: str) -> None: ...
    def finish(self, label: str, ok: bool, message: str) -> None: ...


def _kind(ev: EventView) -> str:
    return ev.type.rsplit(".", 1)[-1]


class PlainView:
    """Progress as plain `<node>: <what>` lines on stderr."""

    @contextmanager
    def showing(self, labels: list[str]) -> Iterator[None]:
        yield

    def event(self, label: str, ev: EventView) -> None:
        kind = _kind(ev)
        if kind in ("SequenceEvent", "PhaseEvent"):
            self.note(label, f"{kind.removesuffix('Event').lower()} {ev.source}: {ev.message}")
        elif kind == "ServiceStateEvent":
            self.note(label, f"service {ev.source}: {ev.message}")

    def note(self, label: str, text: str) -> None:
        click.echo(f"{label or 'endpoint'}: {text}", err=True)

    def finish(self, label: str, ok: bool, message: str) -> None:
        """The result table (stdout) says it: nothing more on stderr."""


@dataclass
class _Row:
    started: float
    sequence: str = ""
    phase: str = ""
    task: str = ""
    state: str = "waiting for events"
    ended: float | None = None
    ok: bool | None = None

    def elapsed(self, now: float) -> str:
        return go_duration((self.ended or now) - self.started)


@dataclass
class LiveView:
    """A rich Live table, one row per node, on a terminal."""

    console: Any  # rich.console.Console
    auto_refresh: bool = True
    clock: Any = time.monotonic
    rows: dict[str, _Row] = field(default_factory=dict)
    _live: Any = None

    @contextmanager
    def showing(self, labels: list[str]) -> Iterator[None]:
        from rich.live import Live
        now = self.clock()
        for label in labels:
            self.rows.setdefault(label, _Row(started=now))
        # transient: the table goes once the operation ends, so the result is said once,
        # by the result lines below (and talosctl leaves out its stdout table then)
        self._live = Live(get_renderable=self.render, console=self.console,
                          auto_refresh=self.auto_refresh, refresh_per_second=4,
                          redirect_stdout=False, redirect_stderr=False, transient=True)
        self._live.start()
        try:
            yield
        finally:
            self._live.stop()
            self._live = None
            self._results()

    def _row(self, label: str) -> _Row:
        return self.rows.setdefault(label, _Row(started=self.clock()))

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    def event(self, label: str, ev: EventView) -> None:
        from talos.api.machine import machine_pb2 as m
        row = self._row(label)
        kind, p = _kind(ev), ev.payload
        if kind == "SequenceEvent":
            row.sequence = ev.source
            if p.action == m.SequenceEvent.START:
                row.phase = row.task = ""
                row.state = "running"
            elif p.action == m.SequenceEvent.STOP:
                row.state = f"failed: {p.error.message}" if p.error.message else "done"
        elif kind == "PhaseEvent":
            row.phase = ev.source
            if p.action == m.PhaseEvent.START:
                row.task = ""
        elif kind == "TaskEvent":
            row.task = ev.source
        elif kind == "ServiceStateEvent":
            row.state = f"service {ev.source}: {m.ServiceStateEvent.Action.Name(p.action)}"
        else:
            return
        self._refresh()

    def note(self, label: str, text: str) -> None:
        self._row(label).state = text
        self._refresh()

    def finish(self, label: str, ok: bool, message: str) -> None:
        row = self._row(label)
        row.ok, row.ended = ok, self.clock()
        row.state = message if ok else f"FAILED: {message}"
        self._refresh()

    def render(self) -> Any:
        from rich.table import Table
        from rich.text import Text
        table = Table(box=None, pad_edge=False, header_style="bold")
        for col in ("NODE", "SEQUENCE", "PHASE", "TASK", "STATE", "ELAPSED"):
            table.add_column(col, no_wrap=col != "STATE", overflow="fold")
        now = self.clock()
        for label, row in list(self.rows.items()):  # rich's refresh thread renders too
            style = {True: "green", False: "red", None: ""}[row.ok]
            table.add_row(label, row.sequence, row.phase, row.task,
                          Text(row.state, style=style), row.elapsed(now))
        return table

    def _results(self) -> None:
        """One line per node once the table stops: what happened, and how long it took."""
        from rich.text import Text
        now = self.clock()
        for label, row in self.rows.items():
            if row.ok is None:
                line = Text(f"? {label}: unfinished ({row.state}) after {row.elapsed(now)}",
                            style="yellow")
            elif row.ok:
                line = Text(f"✓ {label}: {row.state} in {row.elapsed(now)}", style="green")
            else:
                line = Text(f"✗ {label}: {row.state} after {row.elapsed(now)}", style="red")
            self.console.print(line, soft_wrap=True)


def choose_view() -> PlainView | LiveView:
    """The Live table when stderr is an interactive terminal, plain lines otherwise."""
    if sys.stderr.isatty() and os.environ.get("TERM", "") not in ("", "dumb"):
        from rich.console import Console
        return LiveView(Console(stderr=True))
    return PlainView()
