"""Node file access: confined to allowed roots (symlinks included), listing and disk usage."""

from __future__ import annotations

import os

import pytest

from talos.api.machine import machine_pb2 as m
from talos.machined.paths import NodePaths
from talos.machined.server.files import GO_DIR, GO_SYMLINK, FileAccess
from talos.machinery.errors import InvalidArgument, NotFound, PermissionDenied


@pytest.fixture
def files(tmp_path) -> FileAccess:
    paths = NodePaths(str(tmp_path))
    paths.ensure()
    var = tmp_path / "var"
    (var / "a" / "b").mkdir(parents=True)
    (var / "a" / "one").write_bytes(b"1" * 100)
    (var / "a" / "b" / "two").write_bytes(b"2" * 50)
    os.symlink("/etc", var / "escape")
    os.symlink("../../..", var / "a" / "up")
    os.symlink("one", var / "a" / "inside")
    return FileAccess(paths)


def test_paths_outside_allowed_roots_are_refused(files):
    for bad in ("/var/escape/passwd", "/var/a/up/etc", "/home", "/var/../../root"):
        with pytest.raises(PermissionDenied, match="outside the allowed roots"):
            files.resolve(bad)
    with pytest.raises(InvalidArgument, match="absolute"):
        files.resolve("var/a")
    with pytest.raises(NotFound):
        files.resolve("/var/nope")
    assert files.resolve("/var/a/inside").endswith("/var/a/one")


def test_list_depth_and_types(files):
    flat = list(files.list(m.ListRequest(root="/var/a")))
    assert sorted(f.relative_name for f in flat) == [".", "b", "inside", "one", "up"]
    assert next(f for f in flat if f.relative_name == "b").mode & GO_DIR
    link = next(f for f in flat if f.relative_name == "inside")
    assert link.mode & GO_SYMLINK and link.link == "one"
    deep = list(files.list(m.ListRequest(root="/var/a", recurse=True,
                                         types=[m.ListRequest.REGULAR])))
    assert sorted(f.relative_name for f in deep) == ["b/two", "one"]
    assert {f.name for f in deep} == {"/var/a/one", "/var/a/b/two"}


def test_disk_usage_sums_children(files):
    du = {d.relative_name: d.size for d in files.disk_usage(
        m.DiskUsageRequest(paths=["/var/a"], all=True))}
    assert du["one"] == 100 and du["b/two"] == 50
    assert du["b"] >= 50 and du["."] >= du["b"] + 100
    shallow = [d.relative_name for d in files.disk_usage(
        m.DiskUsageRequest(paths=["/var/a"], recursion_depth=1))]
    assert shallow == ["b", "."]
    big = [d.relative_name for d in files.disk_usage(
        m.DiskUsageRequest(paths=["/var/a"], all=True, threshold=101, recursion_depth=1))]
    assert "one" not in big and "." in big
