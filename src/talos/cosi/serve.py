"""Serve a State (and, with a runtime, the inspect graph) on a grpc.aio server.

machined uses this on its unix socket; tests use it on a temporary socket.
"""

from __future__ import annotations

import grpc

from talos.api.inspect import inspect_pb2_grpc
from talos.cosi.inspect_server import InspectServicer
from talos.cosi.runtime import Runtime
from talos.cosi.server import Authorize, StateServicer, add_to_server
from talos.cosi.state import State


def add_services(server: grpc.aio.Server, state: State, runtime: Runtime | None = None, *,
                 authorize: Authorize | None = None, hostname: str = "") -> None:
    add_to_server(StateServicer(state, authorize=authorize), server)
    if runtime is not None:
        inspect_pb2_grpc.add_InspectServiceServicer_to_server(
            InspectServicer(runtime, hostname), server)


async def start_server(address: str, state: State, runtime: Runtime | None = None, *,
                       authorize: Authorize | None = None) -> grpc.aio.Server:
    """Start an insecure server on `address` (e.g. `unix:/run/machined.sock`); the caller
    stops it with `await server.stop(grace)`."""
    server = grpc.aio.server()
    add_services(server, state, runtime, authorize=authorize)
    server.add_insecure_port(address)
    await server.start()
    return server
