"""machine.DebugService (upstream v1.13.9 `api/machine/debug.proto`, `talosctl debug`):
ContainerRun runs an image as a debug container with its stdin/stdout attached over a
bidirectional stream.

Not done yet on this node: the call is answered with UNIMPLEMENTED naming why, after the
first request was read and checked (so a malformed spec is still InvalidArgument, as
upstream's). Running the container itself needs containerd task I/O (FIFOs, a pty for
`tty`, resize and signal forwarding), which machined does not drive yet (`ctr` pulls and
imports images only). Admin-only through apid, as upstream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import grpc

from talos.api.machine import debug_pb2, debug_pb2_grpc
from talos.machined.server.context import NodeAPI
from talos.machinery.errors import InvalidArgument

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

NOT_YET = ("DebugService.ContainerRun is not implemented on this node yet: running a debug "
           "container with its I/O attached needs containerd task I/O (FIFOs, a terminal, "
           "signals), which this node does not drive yet; `talosctl containers`, `logs` and "
           "`image pull` work")


def check_spec(first: debug_pb2.DebugContainerRunRequest | None) -> None:
    """Upstream's checks of the first message: it must be the spec, naming an image."""
    if first is None or first.WhichOneof("request") != "spec":
        raise InvalidArgument("the first ContainerRun request must be the container spec")
    if not first.spec.image_name:
        raise InvalidArgument("ContainerRun spec: image_name is required")


class DebugServicer(debug_pb2_grpc.DebugServiceServicer):
    def __init__(self, node: NodeAPI) -> None:
        self.node = node

    async def ContainerRun(self, request_iterator: AsyncIterator[
                               debug_pb2.DebugContainerRunRequest],
                           context: Ctx) -> AsyncIterator[debug_pb2.DebugContainerRunResponse]:
        first = None
        async for req in request_iterator:
            first = req
            break
        check_spec(first)
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, NOT_YET)
        yield debug_pb2.DebugContainerRunResponse()  # not reached
