"""write_atomic(exclusive=True): creates, never replaces, leaves no temporary file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from talos.machinery.atomic import write_atomic


def test_exclusive_creates_and_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "talosconfig"
    write_atomic(target, "first\n", 0o600, exclusive=True)
    assert target.read_text() == "first\n"
    assert target.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        write_atomic(target, "second\n", exclusive=True)
    assert target.read_text() == "first\n"
    assert os.listdir(target.parent) == ["talosconfig"]
    write_atomic(target, "replaced\n")
    assert target.read_text() == "replaced\n"
