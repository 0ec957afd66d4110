"""Live and plain progress views over a recorded reboot (real machine.Event messages).

data/reboot_events.json is what a plain-mode machined streamed through `Events` while it
rebooted: the reboot sequence, then (null) the API going away, then the initialize and boot
sequences of the restarted node.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from google.protobuf import json_format
from rich.console import Console

from talos.api.machine import machine_pb2 as m
from talos.talosctl.events import EventView, decode_event
from talos.talosctl.progress_view import LiveView, PlainView
from talos.talosctl.timefmt import go_duration

RECORDED = Path(__file__).parent / "data" / "reboot_events.json"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def recorded(label: str) -> list[EventView | None]:
    """The recorded events decoded as talosctl decodes them (None: the API went away)."""
    out: list[EventView | None] = []
    for doc in json.loads(RECORDED.read_text()):
        out.append(None if doc is None
                   else decode_event(label, json_format.ParseDict(doc, m.Event())))
    return out


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def rendered(view: LiveView) -> str:
    """The view's current table as plain text."""
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(view.render())
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def row_of(text: str, label: str) -> list[str]:
    (line,) = [ln for ln in text.splitlines() if ln.startswith(label)]
    return line.split()


def test_live_table_follows_two_nodes_through_a_recorded_reboot() -> None:
    out = io.StringIO()
    clock = Clock()
    view = LiveView(Console(file=out, force_terminal=True, width=160), auto_refresh=False,
                    clock=clock)
    nodes = ("10.5.0.2", "10.5.0.3")
    streams = {n: recorded(n) for n in nodes}
    with view.showing(list(nodes)):
        assert row_of(rendered(view), nodes[0])[-1] == "0s"
        # the first node reboots fully; the second is still in its reboot sequence
        seen_task = False
        for ev in streams[nodes[0]]:
            clock.now += 0.5
            if ev is None:
                view.note(nodes[0], "API is down: waiting for the node to come back")
                assert "API is down" in rendered(view)
                continue
            view.event(nodes[0], ev)
            if ev.source == "stopAllServices" and ev.message == "start":
                assert row_of(rendered(view), nodes[0])[1:4] == ["reboot", "stopServices",
                                                                 "stopAllServices"]
                seen_task = True
        assert seen_task
        row = row_of(rendered(view), nodes[0])
        assert row[1:5] == ["boot", "done", "bootDone", "done"], row
        view.finish(nodes[0], True, "rebooted (23.5s)")
        for ev in streams[nodes[1]][:4]:
            assert ev is not None
            view.event(nodes[1], ev)
        clock.now += 2
        row = row_of(rendered(view), nodes[1])
        assert row[1:4] == ["reboot", "stopServices", "stopAllServices"], row
        assert " ".join(row[4:-1]) == "service containerd: STOPPING"
        view.finish(nodes[1], False, "timed out waiting for the node to boot")
        final = rendered(view)
        assert row_of(final, nodes[0])[-1] == "24s"  # frozen at finish
        assert "FAILED: timed out waiting for the node to boot" in final
    text = ANSI.sub("", out.getvalue())
    # the Live table was drawn on the terminal, and it ends with one result line per node
    assert "NODE" in text and "SEQUENCE" in text and "ELAPSED" in text
    lines = text.rstrip("\n").splitlines()
    assert lines[-2] == f"✓ {nodes[0]}: rebooted (23.5s) in 24s"
    assert lines[-1] == f"✗ {nodes[1]}: FAILED: timed out waiting for the node to boot after 26s"
    assert "\x1b[" in out.getvalue()  # a terminal: colours and cursor movement


def test_live_result_line_for_a_node_left_unfinished() -> None:
    out = io.StringIO()
    view = LiveView(Console(file=out, force_terminal=True, width=120), auto_refresh=False,
                    clock=Clock())
    with pytest.raises(KeyboardInterrupt), view.showing(["n1"]):
        first = recorded("n1")[0]
        assert first is not None
        view.event("n1", first)
        raise KeyboardInterrupt
    assert ANSI.sub("", out.getvalue()).rstrip().splitlines()[-1] == \
        "? n1: unfinished (running) after 0s"


def test_plain_view_prints_the_lines_tests_and_pipes_rely_on(
        capsys: pytest.CaptureFixture[str]) -> None:
    view = PlainView()
    with view.showing(["n1"]):
        for ev in recorded("n1"):
            if ev is None:
                view.note("n1", "API is down: waiting for the node to come back")
            else:
                view.event("n1", ev)
        view.finish("n1", True, "rebooted (1.0s)")
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == "n1: sequence reboot: start"
    assert "n1: phase stopServices: start" in lines
    assert "n1: service containerd: STOPPING: Stopping service" in lines
    assert "n1: API is down: waiting for the node to come back" in lines
    assert lines[-1] == "n1: sequence boot: stop"
    assert not any("stopAllServices" in ln for ln in lines)  # tasks are live-table only
    assert "\x1b[" not in captured.err


def test_go_duration() -> None:
    assert [go_duration(s) for s in (0, 0.4, 12.6, 63, 3605)] == ["0s", "0s", "13s", "1m3s",
                                                                  "1h0m5s"]
