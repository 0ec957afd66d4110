"""Where a call goes, from its `node` / `nodes` metadata (Talos's conventions).

- neither: the local machined;
- `node: X`: one-to-one proxy to X's apid (its reply or error passed through as is);
- `nodes: X,Y` (comma-separated and/or repeated values, as Talos clients send them):
  fan-out to each node's apid, replies merged and stamped with `metadata.hostname`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from talos.machinery.errors import InvalidArgument

#: More targets than this in one call is a mistake (or an attack), not a cluster.
MAX_NODES = 256
MAX_NAME = 253
#: Host names, IPv4, IPv6 (optionally bracketed) with an optional :port.
_NAME = re.compile(r"^[A-Za-z0-9._:\[\]%-]+$")
ROUTING_KEYS = ("node", "nodes")


@dataclass(frozen=True)
class Route:
    kind: Literal["local", "one", "many"]
    nodes: tuple[str, ...] = ()


LOCAL = Route("local")


def _check_name(key: str, name: str) -> str:
    if not name:
        raise InvalidArgument(f"metadata {key!r}: empty node name")
    if len(name) > MAX_NAME:
        raise InvalidArgument(f"metadata {key!r}: node name longer than {MAX_NAME} characters")
    if not _NAME.match(name):
        raise InvalidArgument(
            f"metadata {key!r}: invalid node name {name[:64]!r} (expected a host name or an "
            "IP address, no spaces)")
    return name


def parse_route(metadata: Iterable[tuple[str, str | bytes]]) -> Route:
    node: list[str] = []
    nodes: list[str] = []
    for key, value in metadata:
        if key not in ROUTING_KEYS:
            continue
        if isinstance(value, bytes):
            raise InvalidArgument(f"metadata {key!r}: expected text")
        if key == "node":
            node.append(value)
        else:
            nodes.extend(value.split(","))
            if len(nodes) > MAX_NODES:
                raise InvalidArgument(
                    f"metadata 'nodes': more than {MAX_NODES} nodes in one call")
    if node and nodes:
        raise InvalidArgument("metadata: both 'node' and 'nodes' are set (use one)")
    if node:
        if len(node) > 1:
            raise InvalidArgument("metadata 'node': more than one value (use 'nodes')")
        return Route("one", (_check_name("node", node[0]),))
    if nodes:
        names = tuple(_check_name("nodes", n) for n in nodes)
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise InvalidArgument(f"metadata 'nodes': {dup!r} is listed more than once")
        return Route("many", names)
    return LOCAL


def split_host_port(node: str) -> tuple[str, int | None]:
    """`host` / `host:port` / `[v6]:port` / bare IPv6 -> (host without brackets, port)."""
    if node.startswith("["):
        host, _, rest = node[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif node.count(":") == 1:
        host, _, port = node.partition(":")
    else:
        host, port = node, ""
    return host, int(port) if port.isdigit() else None


def target_address(node: str, default_port: int) -> str:
    """`host` -> `host:port`; `host:port`, `[v6]:port` kept; a bare IPv6 gets brackets."""
    if node.startswith("["):
        return node if "]:" in node else f"{node}:{default_port}"
    if node.count(":") == 1:
        return node
    if ":" in node:
        return f"[{node}]:{default_port}"
    return f"{node}:{default_port}"
