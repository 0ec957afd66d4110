"""Durable storage of resources: one file per resource, written atomically.

Layout: `<root>/<namespace>/<type>/<quoted id>.pb`, each file a `cosi.resource.Resource`.
A write goes to a temp file in the same directory, is fsynced, renamed over the old file and
the directory fsynced, so after a crash (even SIGKILL) a resource is at its last committed
version or, if it was never committed, absent. These calls block: run them in a thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote

from talos.api.v1alpha1 import resource_pb2
from talos.cosi.resource import Pointer, Resource
from talos.cosi.wire import resource_from_proto, resource_to_proto
from talos.machinery.atomic import fsync_dir

SUFFIX = ".pb"



class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, ptr: Pointer) -> Path:
        return (self.root / quote(ptr.namespace, safe="") / quote(ptr.type, safe="")
                / (quote(ptr.id, safe="") + SUFFIX))

    def write(self, r: Resource) -> None:
        path = self._path(r.pointer)
        new_dir = not path.parent.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = resource_to_proto(r).SerializeToString()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)
        if new_dir:
            fsync_dir(path.parent.parent)
            fsync_dir(path.parent.parent.parent)

    def delete(self, ptr: Pointer) -> None:
        path = self._path(ptr)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        fsync_dir(path.parent)

    def load(self, namespace: str) -> list[Resource]:
        """Every stored resource of a namespace; leftover temp files are removed."""
        out: list[Resource] = []
        ns_dir = self.root / quote(namespace, safe="")
        if not ns_dir.is_dir():
            return out
        for type_dir in sorted(ns_dir.iterdir()):
            for f in sorted(type_dir.iterdir()):
                if f.name.startswith(".") and f.name.endswith(".tmp"):
                    f.unlink(missing_ok=True)
                    continue
                if not f.name.endswith(SUFFIX):
                    continue
                pb = resource_pb2.Resource()
                pb.ParseFromString(f.read_bytes())
                r = resource_from_proto(pb)
                if unquote(f.name[: -len(SUFFIX)]) != r.id:
                    continue
                out.append(r)
        return out
