"""Every method apid knows, from the generated descriptors: its streaming kind and whether
its replies follow the Talos envelope (so they can be fanned out to several nodes).

apid reads them from `method_table.py`, written from the descriptors by
`python -m talos.apid.methods > src/talos/apid/method_table.py` (and checked against them by
tests/unit/apid/test_method_table.py): loading the descriptors themselves costs a process
~50 modules and ~2.6 MB of heap, for a table of ~70 rows apid only routes bytes with.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import astuple, dataclass
from functools import cache
from typing import TYPE_CHECKING

from talos.apid.method_table import METHODS

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor

#: Generated modules that declare the services we serve.
SERVICE_MODULES = (
    "talos.api.machine.machine_pb2",
    "talos.api.machine.image_pb2",
    "talos.api.machine.lifecycle_pb2",
    "talos.api.machine.debug_pb2",
    "talos.api.cluster.cluster_pb2",
    "talos.api.inspect.inspect_pb2",
    "talos.api.storage.storage_pb2",
    "talos.api.time.time_pb2",
    "talos.api.v1alpha1.state_pb2",
)
#: Services apid proxies (trustd's SecurityService is served by trustd, not apid).
_METADATA_TYPE = "common.Metadata"


@dataclass(frozen=True)
class MethodInfo:
    path: str
    client_streaming: bool
    server_streaming: bool
    #: replies carry `metadata = 1` per message: `nodes` fan-out may merge them
    fanout: bool
    #: full name of the request message (for errors about undecodable requests)
    request_type: str = "the request"


def _has_metadata(msg: Descriptor) -> bool:
    f = msg.fields_by_number.get(1)
    return (f is not None and f.message_type is not None
            and f.message_type.full_name == _METADATA_TYPE)


def _envelope(msg: Descriptor, streaming: bool) -> bool:
    if streaming:
        return _has_metadata(msg)
    f = msg.fields_by_number.get(1)
    return (f is not None and f.message_type is not None
            and f.is_repeated and _has_metadata(f.message_type))


def methods_from_descriptors() -> dict[str, MethodInfo]:
    """The table, read from the generated descriptors of SERVICE_MODULES."""
    out: dict[str, MethodInfo] = {}
    for name in SERVICE_MODULES:
        mod = importlib.import_module(name)
        for svc in mod.DESCRIPTOR.services_by_name.values():
            for m in svc.methods:
                path = f"/{svc.full_name}/{m.name}"
                out[path] = MethodInfo(
                    path, m.client_streaming, m.server_streaming,
                    fanout=not m.client_streaming
                    and _envelope(m.output_type, m.server_streaming),
                    request_type=m.input_type.full_name)
    return out


def render_table(methods: Mapping[str, MethodInfo]) -> str:
    """The text of method_table.py for `methods`."""
    lines = ['"""apid\'s method table, written by `python -m talos.apid.methods >',
             'src/talos/apid/method_table.py` from the generated descriptors (do not edit).',
             "",
             "path -> (client_streaming, server_streaming, fanout, request_type)",
             '"""',
             "",
             "METHODS: dict[str, tuple[bool, bool, bool, str]] = {"]
    for path in sorted(methods):
        _, *row = astuple(methods[path])
        lines.append(f"    {path!r}:")
        lines.append(f"        {tuple(row)!r},")
    lines.append("}")
    return "\n".join(lines) + "\n"


@cache
def known_methods() -> Mapping[str, MethodInfo]:
    return {path: MethodInfo(path, *row) for path, row in METHODS.items()}


def lookup(path: str) -> MethodInfo | None:
    return known_methods().get(path)


if __name__ == "__main__":
    print(render_table(methods_from_descriptors()), end="")
