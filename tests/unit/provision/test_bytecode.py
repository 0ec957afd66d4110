"""provision.bytecode: the node code's .pyc files are written on the host (nodes see it
read-only), unless bytecode writing is disabled."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import talos
from talos.provision import bytecode


def test_skipped_when_bytecode_writing_is_disabled(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(talos, "__file__", str(tmp_path / "__init__.py"))
    (tmp_path / "mod.py").write_text("X = 1\n")
    assert bytecode.ensure_compiled() is False
    assert not (tmp_path / "__pycache__").exists()


def test_writes_missing_bytecode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(talos, "__file__", str(tmp_path / "__init__.py"))
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mod.py").write_text("X = 1\n")
    assert bytecode.ensure_compiled() is True
    tag = sys.implementation.cache_tag
    assert (tmp_path / "sub" / "__pycache__" / f"mod.{tag}.pyc").is_file()
    assert bytecode.ensure_compiled() is True  # up to date: nothing to do, still fine


def test_a_syntax_error_is_not_a_create_failure(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(talos, "__file__", str(tmp_path / "__init__.py"))
    (tmp_path / "bad.py").write_text("def (:\n")
    assert bytecode.ensure_compiled() is False
