"""`talosctl get <type> [<id>]`: resources as a table, YAML or JSON; `-w` follows changes."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import click
import grpc
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from talos.api.v1alpha1 import meta_pb2, resource_pb2, state_pb2, state_pb2_grpc
from talos.machinery.client.connection import Metadata, node_metadata
from talos.talosctl.jsonpath_template import JsonPathTemplate, OutputFormat
from talos.talosctl.nodeapi import Session, call, rpc_message

META_NS = "meta"
RD_TYPE = "ResourceDefinitions.meta.cosi.dev"
EVENT_LABELS: dict[int, str] = {state_pb2.CREATED: "+", state_pb2.UPDATED: " ",
                                state_pb2.DESTROYED: "-"}
EVENT_NAMES: dict[int, str] = {state_pb2.CREATED: "created", state_pb2.UPDATED: "updated",
               state_pb2.DESTROYED: "destroyed"}


@dataclass(frozen=True)
class Definition:
    type: str
    display_type: str
    default_namespace: str
    aliases: tuple[str, ...]  # every alias (spec.allAliases): what names resolve
    columns: tuple[tuple[str, str], ...]
    #: the aliases the definition lists (spec.aliases), as the dashboard's explorer shows
    listed_aliases: tuple[str, ...] = ()


def definition_of(pb: resource_pb2.Resource) -> Definition:
    """A ResourceDefinition resource (proto or YAML spec) as a `Definition`."""
    spec = meta_pb2.ResourceDefinitionSpec()
    if pb.spec.proto_spec:
        spec.ParseFromString(pb.spec.proto_spec)
        return Definition(spec.resource_type, spec.display_type, spec.default_namespace,
                          tuple(spec.all_aliases),
                          tuple((c.name, c.json_path) for c in spec.print_columns),
                          tuple(spec.aliases))
    d = load_yaml(pb.spec.yaml_spec) or {}
    return Definition(d.get("type", ""), d.get("displayType", ""),
                      d.get("defaultNamespace", ""), tuple(d.get("allAliases") or ()),
                      tuple((c.get("name", ""), c.get("jsonPath", ""))
                            for c in d.get("printColumns") or ()),
                      tuple(d.get("aliases") or ()))


def load_yaml(text: str) -> Any:
    try:
        return YAML(typ="safe", pure=True).load(text) if text.strip() else None
    except YAMLError:
        return None


async def resolve(stub: state_pb2_grpc.StateStub, name: str, md: Metadata = ()
                  ) -> Definition:
    """Type name or alias -> definition, case-insensitively, from the node's definitions."""
    low = name.lower()
    found: list[Definition] = []
    async for item in stub.List(state_pb2.ListRequest(namespace=META_NS, type=RD_TYPE),
                                metadata=md):
        d = definition_of(item.resource)
        if d.type.lower() == low or low in (a.lower() for a in d.aliases):
            found.append(d)
    if not found:
        raise click.ClickException(f"resource type {name!r} is not registered")
    if len(found) > 1:
        raise click.ClickException(f"resource type {name!r} is ambiguous: "
                                   + ", ".join(d.type for d in found))
    return found[0]


def json_path(data: Any, path: str) -> Any:
    """The tiny JSONPath subset print columns use: `{.a.b}` and `{.a[0]}`."""
    expr = path.strip()
    if expr.startswith("{") and expr.endswith("}"):
        expr = expr[1:-1]
    cur = data
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", expr):
        key, idx = part
        if key:
            cur = cur.get(key) if isinstance(cur, dict) else None
        else:
            cur = cur[int(idx)] if isinstance(cur, list) and int(idx) < len(cur) else None
        if cur is None:
            return None
    return cur


def _rfc3339(ts: Any) -> str:
    """Go's time.RFC3339Nano: fraction without trailing zeros, Z for UTC."""
    base = ts.ToDatetime().strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{ts.nanos:09d}".rstrip("0")
    return f"{base}.{frac}Z" if frac else f"{base}Z"


_PLAIN = re.compile(r"[A-Za-z0-9_./@+-][A-Za-z0-9_./:@+ -]*")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def _yaml_scalar(value: Any) -> str:
    """One scalar as Go's YAML encoder would write it (plain when unambiguous)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    plain = (_PLAIN.fullmatch(text) and not text.endswith((" ", ":"))
             and text.lower() not in _RESERVED and not re.fullmatch(r"[-+]?[0-9.]+", text))
    return text if plain else json.dumps(text)


def _yaml_block(data: dict[str, Any], indent: str = "") -> str:
    out = []
    for key, value in data.items():
        if isinstance(value, dict):
            out.append(f"{indent}{key}:\n" + _yaml_block(value, indent + "    "))
        elif isinstance(value, list):
            out.append(f"{indent}{key}:\n" + "".join(
                f"{indent}    - {_yaml_scalar(v)}\n" for v in value))
        else:
            out.append(f"{indent}{key}: {_yaml_scalar(value)}".rstrip() + "\n")
    return "".join(out)


def cell_text(value: Any) -> str:
    """A print column's value as a table cell (lists and maps as compact JSON)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def resource_metadata(md: resource_pb2.Metadata) -> dict[str, Any]:
    """A resource's metadata as `-o yaml`/`-o json` print it."""
    meta: dict[str, Any] = {
        "namespace": md.namespace, "type": md.type, "id": md.id,
        "version": int(md.version or 0), "owner": md.owner or None, "phase": md.phase,
        "created": _rfc3339(md.created), "updated": _rfc3339(md.updated)}
    if md.labels:
        meta["labels"] = dict(md.labels)
    if md.annotations:
        meta["annotations"] = dict(md.annotations)
    if md.finalizers:
        meta["finalizers"] = list(md.finalizers)
    return meta


def resource_yaml(r: resource_pb2.Resource, head: dict[str, Any]) -> str:
    """One resource as `-o yaml` prints it: `head` (node, event), metadata, spec."""
    header = _yaml_block({**head, "metadata": resource_metadata(r.metadata)})
    text = r.spec.yaml_spec
    spec = load_yaml(text)
    if not text.strip():
        body = "spec: {}\n"
    elif "\n---" in text or text.startswith("---") or not isinstance(spec, (dict, list)):
        body = "spec: |\n" + "".join("    " + ln + "\n" for ln in text.splitlines())
    else:
        body = "spec:\n" + "".join(("    " + ln if ln else ln) + "\n"
                                   for ln in text.splitlines())
    return header + body


class Printer:
    def __init__(self, fmt: str | JsonPathTemplate, d: Definition, watch: bool) -> None:
        self.fmt, self.d, self.watch = fmt, d, watch
        self.rows: list[list[str]] = []
        self.first = True

    def header(self) -> list[str]:
        cols = ["NODE", "NAMESPACE", "TYPE", "ID", "VERSION"] + [
            name.upper() for name, _ in self.d.columns]
        return (["*"] if self.watch else []) + cols

    def add(self, node: str, r: resource_pb2.Resource, event: int | None = None) -> None:
        md = r.metadata
        spec = load_yaml(r.spec.yaml_spec)
        if self.fmt == "table":
            row = [node, md.namespace, self.d.display_type or md.type, md.id, md.version]
            row += [cell_text(json_path(spec, p)) for _, p in self.d.columns]
            if self.watch:
                row.insert(0, EVENT_LABELS.get(event if event is not None else 0, " "))
                self._emit([row])
            else:
                self.rows.append(row)
            return
        head: dict[str, Any] = {"node": node}
        if self.watch and event is not None:
            head["event"] = EVENT_NAMES.get(event, "")
        if self.fmt == "json" or isinstance(self.fmt, JsonPathTemplate):
            out = {**head, "metadata": resource_metadata(md),
                   "spec": spec if spec is not None else r.spec.yaml_spec}
            if isinstance(self.fmt, JsonPathTemplate):
                click.echo(self.fmt.render(json.loads(json.dumps(out, default=str))))
            else:
                click.echo(json.dumps(out, indent=4))
            return
        click.echo(("" if self.first else "---\n") + resource_yaml(r, head), nl=False)
        self.first = False

    def _emit(self, rows: list[list[str]]) -> None:
        lines = [self.header(), *rows] if self.first else rows
        self.first = False
        widths = [max(len(r[i]) for r in lines) for i in range(len(lines[0]))]
        for r in lines:
            click.echo("".join(c.ljust(w + 3) for c, w in zip(r[:-1], widths, strict=False))
                       + r[-1])

    def finish(self) -> None:
        if self.fmt == "table" and not self.watch:
            self._emit(self.rows)


async def _get_node(s: Session, node: str, d: Definition, id: str | None, ns: str,
                    printer: Printer, watch: bool) -> None:
    """One node's resources (or its events, following) through the node API."""
    stub = state_pb2_grpc.StateStub(s.conn.channel)
    md = node_metadata(node) if node else ()
    if watch:
        req = state_pb2.WatchRequest(namespace=ns, type=d.type, api_version=1,
                                     options=state_pb2.WatchOptions(
                                         bootstrap_contents=id is None))
        if id is not None:
            req.id = id
        async for resp in stub.Watch(req, metadata=md):
            for ev in resp.event:
                if ev.event_type == state_pb2.BOOTSTRAPPED:
                    continue
                if ev.event_type == state_pb2.ERRORED:
                    raise click.ClickException(f"watch failed: {ev.error}")
                if id is not None and ev.event_type == state_pb2.DESTROYED \
                        and not ev.resource.metadata.version:
                    continue  # the resource does not exist (yet)
                printer.add(node, ev.resource, ev.event_type)
        return
    if id is not None:
        resp = await stub.Get(state_pb2.GetRequest(namespace=ns, type=d.type, id=id),
                              metadata=md)
        printer.add(node, resp.resource)
    else:
        async for item in stub.List(state_pb2.ListRequest(namespace=ns, type=d.type),
                                    metadata=md):
            printer.add(node, item.resource)


async def _get(s: Session, type_name: str, id: str | None, namespace: str | None,
               fmt: str | JsonPathTemplate,
               watch: bool) -> None:
    """Each target node in turn (`node` metadata: COSI replies have no envelope to merge);
    no nodes: the endpoint's own node. A failing node is reported, the others still shown."""
    nodes = s.nodes or [""]
    first = nodes[0]
    d = await resolve(state_pb2_grpc.StateStub(s.conn.channel),
                      type_name, node_metadata(first) if first else ())
    ns = namespace or d.default_namespace
    printer = Printer(fmt, d, watch)

    async def one(node: str) -> None:
        try:
            await _get_node(s, node, d, id, ns, printer, watch)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.CANCELLED:
                raise
            s.errors.append((node, rpc_message(e)))
        except click.ClickException as e:  # a watch that failed on this node
            s.errors.append((node, e.message))

    if watch and len(nodes) > 1:
        async with asyncio.TaskGroup() as tg:
            for node in nodes:
                tg.create_task(one(node))
    else:
        for node in nodes:
            await one(node)
    printer.finish()
    s.raise_errors()


@click.command(name="get")
@click.argument("type_name", metavar="<type>")
@click.argument("id", required=False, metavar="[<id>]")
@click.option("--namespace", default=None, help="resource namespace (default is to use "
              "default namespace per resource)")
@click.option("-o", "--output", "fmt", type=OutputFormat(), default="table",
              show_default=True, help="output mode (json, table, yaml, "
              "jsonpath='{.spec...}')")
@click.option("-w", "--watch", is_flag=True, help="watch resource changes")
@click.option("-i", "--insecure", is_flag=True, help="use Talos maintenance mode API")
@click.pass_context
def get(ctx: click.Context, type_name: str, id: str | None, namespace: str | None,
        fmt: str | JsonPathTemplate, watch: bool, insecure: bool) -> None:
    """Get a specific resource or list of resources (use 'talosctl get rd' to see all
    available resource types)."""
    call(ctx, lambda s: _get(s, type_name, id, namespace, fmt, watch), insecure=insecure)
