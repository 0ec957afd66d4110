"""File access for List, Read, DiskUsage and Copy: node paths confined to allowed roots.

A request path is a node path (absolute, as the node sees it). It is resolved (symlinks
followed) under the node root, and refused unless the result lies inside one of
`ALLOWED_ROOTS`. Everything here blocks; the servicer runs it in threads and streams.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

from talos.api.machine import machine_pb2 as m
from talos.machined.paths import NodePaths
from talos.machinery.errors import InvalidArgument, NotFound, PermissionDenied

ALLOWED_ROOTS = ("/var", "/system", "/proc", "/sys", "/etc", "/usr", "/run", "/tmp", "/opt")

# Go's os.FileMode bits, which talosctl renders
GO_DIR = 1 << 31
GO_SYMLINK = 1 << 27
GO_DEVICE = 1 << 26
GO_PIPE = 1 << 25
GO_SOCKET = 1 << 24
GO_SETUID = 1 << 23
GO_SETGID = 1 << 22
GO_CHARDEV = 1 << 21
GO_STICKY = 1 << 20


def go_mode(st_mode: int) -> int:
    mode = st_mode & 0o777
    if stat.S_ISDIR(st_mode):
        mode |= GO_DIR
    elif stat.S_ISLNK(st_mode):
        mode |= GO_SYMLINK
    elif stat.S_ISFIFO(st_mode):
        mode |= GO_PIPE
    elif stat.S_ISSOCK(st_mode):
        mode |= GO_SOCKET
    elif stat.S_ISCHR(st_mode):
        mode |= GO_DEVICE | GO_CHARDEV
    elif stat.S_ISBLK(st_mode):
        mode |= GO_DEVICE
    if st_mode & stat.S_ISUID:
        mode |= GO_SETUID
    if st_mode & stat.S_ISGID:
        mode |= GO_SETGID
    if st_mode & stat.S_ISVTX:
        mode |= GO_STICKY
    return mode


def _st_mode(gomode: int) -> int:
    if gomode & GO_DIR:
        return stat.S_IFDIR
    if gomode & GO_SYMLINK:
        return stat.S_IFLNK
    return stat.S_IFREG


class FileAccess:
    def __init__(self, paths: NodePaths, allowed: tuple[str, ...] = ALLOWED_ROOTS) -> None:
        self.paths = paths
        self.allowed = allowed

    def resolve(self, node_path: str, *, field: str = "path") -> str:
        """Host path for `node_path`, or an error naming the problem."""
        if not node_path:
            raise InvalidArgument(f"{field}: a path is required")
        if not node_path.startswith("/"):
            raise InvalidArgument(f"{field}: expected an absolute path, got {node_path!r}")
        root = os.path.realpath(self.paths.root)
        host = os.path.realpath(self.paths.to_host(node_path))
        rel = os.path.relpath(host, root)
        node_real = "/" if rel == "." else "/" + rel
        if rel.startswith("..") or not any(
                node_real == a or node_real.startswith(a + "/") for a in self.allowed):
            raise PermissionDenied(
                f"{field}: {node_path!r} is outside the allowed roots "
                f"({', '.join(self.allowed)})")
        if not os.path.lexists(host):
            raise NotFound(f"{field}: {node_path!r} does not exist")
        return host

    def node_name(self, host: str) -> str:
        return self.paths.to_node(host)

    # -- List ---------------------------------------------------------------------------------

    def list(self, req: m.ListRequest) -> Iterator[m.FileInfo]:
        root_host = self.resolve(req.root or "/var", field="root")
        if not req.recurse:
            max_depth = 1
        elif req.recursion_depth <= 0:
            max_depth = -1
        else:
            max_depth = req.recursion_depth
        types = set(req.types)

        def wanted(st_mode: int) -> bool:
            if not types:
                return True
            if stat.S_ISDIR(st_mode):
                return m.ListRequest.DIRECTORY in types
            if stat.S_ISLNK(st_mode):
                return m.ListRequest.SYMLINK in types
            return m.ListRequest.REGULAR in types

        def info(host: str, rel: str) -> m.FileInfo:
            try:
                st = os.lstat(host)
            except OSError as exc:
                return m.FileInfo(name=self.node_name(host), relative_name=rel,
                                  error=str(exc))
            link = ""
            if stat.S_ISLNK(st.st_mode):
                try:
                    link = os.readlink(host)
                except OSError:
                    link = ""
            return m.FileInfo(name=self.node_name(host), size=st.st_size,
                              mode=go_mode(st.st_mode), modified=int(st.st_mtime),
                              is_dir=stat.S_ISDIR(st.st_mode), link=link, relative_name=rel,
                              uid=st.st_uid, gid=st.st_gid)

        def walk(host: str, rel: str, depth: int) -> Iterator[m.FileInfo]:
            fi = info(host, rel)
            if fi.error or wanted(_st_mode(fi.mode)):
                yield fi
            if not fi.is_dir or (max_depth >= 0 and depth >= max_depth):
                return
            try:
                names = sorted(os.listdir(host))
            except OSError as exc:
                yield m.FileInfo(name=self.node_name(host), relative_name=rel,
                                 error=str(exc))
                return
            for n in names:
                yield from walk(os.path.join(host, n),
                                n if rel == "." else os.path.join(rel, n), depth + 1)

        yield from walk(root_host, ".", 0)

    # -- Read ---------------------------------------------------------------------------------

    def open_for_read(self, node_path: str) -> int:
        host = self.resolve(node_path)
        st = os.stat(host)
        if stat.S_ISDIR(st.st_mode):
            raise InvalidArgument(f"path: {node_path!r} is a directory")
        if not (stat.S_ISREG(st.st_mode) or node_path.startswith(("/proc/", "/sys/"))):
            raise InvalidArgument(f"path: {node_path!r} is not a regular file")
        return os.open(host, os.O_RDONLY | os.O_CLOEXEC)

    # -- DiskUsage ----------------------------------------------------------------------------

    def disk_usage(self, req: m.DiskUsageRequest) -> Iterator[m.DiskUsageInfo]:
        for p in (req.paths or ["/var"]):
            host = self.resolve(p, field="paths")
            for info, report in self._du(host, ".", 0, req):
                if report:
                    yield info

    def _du(self, host: str, rel: str, depth: int, req: m.DiskUsageRequest
            ) -> Iterator[tuple[m.DiskUsageInfo, bool]]:
        """Post-order walk: every entry below first, then this one (always last) with its
        total size; the flag says whether the request wants it reported."""
        in_depth = req.recursion_depth <= 0 or depth <= req.recursion_depth
        name = self.node_name(host)
        try:
            st = os.lstat(host)
        except OSError as exc:
            yield m.DiskUsageInfo(name=name, relative_name=rel, error=str(exc)), True
            return
        if not stat.S_ISDIR(st.st_mode):
            size = st.st_size
            report = (depth == 0 or req.all) and in_depth and _over(size, req.threshold)
            yield m.DiskUsageInfo(name=name, size=size, relative_name=rel), report
            return
        total = st.st_size
        try:
            names = sorted(os.listdir(host))
        except OSError as exc:
            yield m.DiskUsageInfo(name=name, relative_name=rel, error=str(exc)), True
            return
        for n in names:
            crel = n if rel == "." else os.path.join(rel, n)
            last: m.DiskUsageInfo | None = None
            for info, report in self._du(os.path.join(host, n), crel, depth + 1, req):
                last = info
                yield info, report
            if last is not None:
                total += last.size
        yield (m.DiskUsageInfo(name=name, size=total, relative_name=rel),
               in_depth and _over(total, req.threshold))


def _over(size: int, threshold: int) -> bool:
    if threshold > 0:
        return size >= threshold
    if threshold < 0:
        return size <= -threshold
    return True
