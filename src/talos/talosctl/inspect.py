"""`talosctl inspect dependencies`: the controller-resource graph as Graphviz dot."""

from __future__ import annotations

import click
from google.protobuf import empty_pb2

from talos.api.inspect import inspect_pb2, inspect_pb2_grpc
from talos.machinery.client.connection import node_metadata
from talos.talosctl.nodeapi import Session, call

EDGE_STYLE: dict[int, str] = {
    inspect_pb2.OUTPUT_EXCLUSIVE: "color=black",
    inspect_pb2.OUTPUT_SHARED: "color=black, style=dashed",
    inspect_pb2.INPUT_STRONG: "color=blue",
    inspect_pb2.INPUT_WEAK: "color=blue, style=dotted",
    inspect_pb2.INPUT_DESTROY_READY: "color=red, style=dotted",
}
OUTPUTS = (inspect_pb2.OUTPUT_EXCLUSIVE, inspect_pb2.OUTPUT_SHARED)


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(resp: inspect_pb2.ControllerRuntimeDependenciesResponse,
           with_resources: bool = False) -> str:
    lines = ["digraph {", "\tnode [shape=box];"]
    controllers: set[str] = set()
    resources: set[str] = set()
    edges: list[str] = []
    for msg in resp.messages:
        for e in msg.edges:
            controllers.add(e.controller_name)
            res = e.resource_type
            if with_resources and e.resource_id:
                res += f"/{e.resource_id}"
            resources.add(res)
            if e.edge_type in OUTPUTS:
                edges.append(f"\t{_q(e.controller_name)} -> {_q(res)} "
                             f"[{EDGE_STYLE[e.edge_type]}];")
            else:
                edges.append(f"\t{_q(res)} -> {_q(e.controller_name)} "
                             f"[{EDGE_STYLE.get(e.edge_type, '')}];")
    for c in sorted(controllers):
        lines.append(f"\t{_q(c)} [shape=box, style=filled, fillcolor=lightblue];")
    for r in sorted(resources):
        lines.append(f"\t{_q(r)} [shape=ellipse];")
    lines.extend(edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


async def _dependencies(s: Session, with_resources: bool) -> str:
    if len(s.nodes) > 1:
        raise click.ClickException("inspect dependencies targets one node; got "
                                   f"{len(s.nodes)}: {', '.join(s.nodes)}")
    stub = inspect_pb2_grpc.InspectServiceStub(s.conn.channel)
    md = node_metadata(s.nodes[0]) if s.nodes else ()
    resp = await stub.ControllerRuntimeDependencies(empty_pb2.Empty(), metadata=md)
    return to_dot(resp, with_resources)


@click.group(name="inspect")
def inspect() -> None:
    """Inspect internals of Talos."""


@inspect.command(name="dependencies")
@click.option("--with-resources", is_flag=True, help="display live resource information "
              "with dependencies")
@click.pass_context
def dependencies(ctx: click.Context, with_resources: bool) -> None:
    """Inspect controller-resource dependencies as graphviz graph."""
    click.echo(call(ctx, lambda s: _dependencies(s, with_resources)), nl=False)
