"""The Resources screen's two reads of a node's COSI state (through apid, `node` metadata
as every dashboard feed): its resource definitions (List of the `meta` namespace, with the
dashboard's deadline) and a watch of one type in its default namespace (bootstrap contents,
then live events; no deadline: it lasts until the screen stops it)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from talos.api.v1alpha1 import state_pb2, state_pb2_grpc
from talos.machinery.client.connection import node_metadata
from talos.talosctl.dashboard.sources import RPC_TIMEOUT
from talos.talosctl.get import META_NS, RD_TYPE, Definition, definition_of


async def definitions(stub: state_pb2_grpc.StateStub, node: str) -> list[Definition]:
    md = node_metadata(node) if node else ()
    return [definition_of(item.resource) async for item in stub.List(
        state_pb2.ListRequest(namespace=META_NS, type=RD_TYPE), metadata=md,
        timeout=RPC_TIMEOUT)]


async def watch(stub: state_pb2_grpc.StateStub, node: str, d: Definition
                ) -> AsyncGenerator[state_pb2.Event]:
    md = node_metadata(node) if node else ()
    req = state_pb2.WatchRequest(namespace=d.default_namespace, type=d.type, api_version=1,
                                 options=state_pb2.WatchOptions(bootstrap_contents=True))
    async for resp in stub.Watch(req, metadata=md):
        for event in resp.event:
            yield event
