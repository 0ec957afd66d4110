"""What the Resources screen (F3, upstream v1.13.9 `ResourceExplorerGrid`) shows, without
drawing anything or talking to a node: the rows of its three levels.

- level 0, the resource types: the node's ResourceDefinitions sorted by type, as rows
  TYPE / NAMESPACE (the default one) / ALIASES (the listed ones); `/` filters them by a
  case-insensitive substring of the type or of any alias (all of them, as upstream);
- level 1, the resources of one type in its default namespace: a `Listing` kept by the
  watch's events (drawn once the watch has sent its bootstrap contents), rows
  ID / VERSION / PHASE / OWNER and the definition's print columns (JSONPath on the spec,
  as `talosctl get` evaluates them; a missing value is an empty cell);
- level 2, one resource as the YAML `talosctl get -o yaml` prints (without the `node:` line,
  as upstream's view).

Errors become one line of text for the screen; a refusal (PermissionDenied, apid's answer to
a reader asking for a sensitive type) reads as upstream's explanation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import grpc

from talos.api.v1alpha1 import resource_pb2, state_pb2
from talos.talosctl.get import Definition, cell_text, json_path, load_yaml, resource_yaml
from talos.talosctl.nodeapi import rpc_message

TYPE_COLUMNS = ("TYPE", "NAMESPACE", "ALIASES")
RESOURCE_COLUMNS = ("ID", "VERSION", "PHASE", "OWNER")
TYPES_TITLE = "Resource Types (Enter: select, /: filter)"
FILTER_LABEL = "filter: "
LOADING = "Loading..."
#: upstream's words for a PermissionDenied (sensitive types need elevated permissions)
DENIED = "access denied: this resource is sensitive and requires elevated permissions"


def sorted_types(defs: Iterable[Definition]) -> tuple[Definition, ...]:
    return tuple(sorted(defs, key=lambda d: d.type))


def matches(d: Definition, text: str) -> bool:
    """The filter: a case-insensitive substring of the type or of any of its aliases."""
    low = text.lower()
    return not low or low in d.type.lower() or any(low in a.lower() for a in d.aliases)


def filter_types(defs: Iterable[Definition], text: str) -> list[Definition]:
    return [d for d in defs if matches(d, text)]


def type_row(d: Definition) -> tuple[str, str, str]:
    return d.type, d.default_namespace, ", ".join(d.listed_aliases)


def list_title(d: Definition) -> str:
    return (f"{d.display_type or d.type} (ns: {d.default_namespace}) \u2014 "
            "Enter: view YAML, Esc: back")


def yaml_title(r: resource_pb2.Resource) -> str:
    return f"{r.metadata.namespace} / {r.metadata.id} (Esc: back)"


def resource_header(d: Definition) -> tuple[str, ...]:
    return RESOURCE_COLUMNS + tuple(name.upper() for name, _ in d.columns)


def column_values(spec_yaml: str, columns: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The print columns' cells for one spec (YAML text); an unparsable spec or a path that
    leads nowhere gives empty cells."""
    spec = load_yaml(spec_yaml)
    return tuple(cell_text(json_path(spec, path)) for _, path in columns)


def resource_row(d: Definition, r: resource_pb2.Resource) -> tuple[str, ...]:
    md = r.metadata
    return (md.id, md.version, md.phase or "running", md.owner,
            *column_values(r.spec.yaml_spec, d.columns))


def resource_text(r: resource_pb2.Resource) -> str:
    return resource_yaml(r, {})


def error_text(e: BaseException) -> str:
    """One line for the screen: upstream's explanation for a refusal, else the gRPC status
    as talosctl words it (`rpc error: code = ... desc = ...`), else the error's message."""
    if isinstance(e, grpc.aio.AioRpcError) and e.code() == grpc.StatusCode.PERMISSION_DENIED:
        return DENIED
    return rpc_message(e) if isinstance(e, grpc.RpcError) else (str(e) or "internal error")


@dataclass
class Listing:
    """The resources of one watch, by id; `ready` once the bootstrap contents are in (the
    table is drawn from then on, as upstream's)."""

    resources: dict[str, resource_pb2.Resource] = field(default_factory=dict)
    ready: bool = False

    def apply(self, event: state_pb2.Event) -> bool:
        """Take one watch event; True when the table should be drawn again. An ERRORED
        event raises `WatchFailed` with its message."""
        kind = event.event_type
        if kind == state_pb2.ERRORED:
            raise WatchFailed(event.error or "the watch failed")
        if kind == state_pb2.BOOTSTRAPPED:
            self.ready = True
            return True
        if kind in (state_pb2.CREATED, state_pb2.UPDATED):
            self.resources[event.resource.metadata.id] = event.resource
        elif kind == state_pb2.DESTROYED:
            self.resources.pop(event.resource.metadata.id, None)
        else:
            return False
        return self.ready

    def ids(self) -> list[str]:
        return sorted(self.resources)


class WatchFailed(Exception):
    """The node ended a watch with an error event."""
