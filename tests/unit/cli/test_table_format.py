"""talosctl tables: one row is one line, whatever a cell holds."""

from talos.talosctl.nodeapi import format_table


def test_columns_are_padded_like_go_tabwriter() -> None:
    text = format_table([("NODE", "PID"), ("10.5.0.2", "1")])
    assert text == "NODE       PID\n10.5.0.2   1\n"


def test_line_breaks_inside_a_cell_are_escaped() -> None:
    text = format_table([("PID", "COMMAND"), ("7", "python -c 'import os\nos.fork()'\tx")])
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[1].split(maxsplit=1) == ["7", "python -c 'import os\\nos.fork()'\\tx"]
