"""The image cache keeps the newest builds only, and never a build still being written."""

from __future__ import annotations

import os

from talos.imager import cache


def _entry(base, name: str, mtime: int) -> str:
    path = base / name
    path.mkdir()
    (path / cache.MANIFEST).write_text("{}")
    os.utime(path, (mtime, mtime))
    return str(path)


def test_only_the_newest_builds_are_kept(tmp_path):
    for i in range(5):
        _entry(tmp_path, f"digest{i}", 1000 + i)
    removed = cache.prune(str(tmp_path), keep=3)
    assert sorted(os.path.basename(p) for p in removed) == ["digest0", "digest1"]
    assert sorted(os.listdir(tmp_path)) == ["digest2", "digest3", "digest4"]


def test_a_build_in_progress_is_left_alone_and_a_dead_one_removed(tmp_path):
    (tmp_path / f".build-abc-{os.getpid()}").mkdir()
    (tmp_path / ".build-abc-999999999").mkdir()
    cache.prune(str(tmp_path))
    assert os.listdir(tmp_path) == [f".build-abc-{os.getpid()}"]
