"""One interceptor maps errors to status codes; a failing handler never stops the server."""

from __future__ import annotations

import grpc
import pytest

from talos.machined.server.interceptor import ErrorInterceptor
from talos.machinery.errors import Busy, NotFound


async def _unary_busy(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise Busy("sequence 'boot' is in progress")


async def _unary_bug(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise RuntimeError("a bug")


async def _unary_ok(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


async def _stream_missing(request: bytes, context: grpc.aio.ServicerContext):
    yield b"first"
    raise NotFound("service 'x' not found")


@pytest.fixture
async def channel(tmp_path):
    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    handler = grpc.method_handlers_generic_handler("t.T", {
        "Busy": grpc.unary_unary_rpc_method_handler(_unary_busy),
        "Bug": grpc.unary_unary_rpc_method_handler(_unary_bug),
        "Ok": grpc.unary_unary_rpc_method_handler(_unary_ok),
        "Stream": grpc.unary_stream_rpc_method_handler(_stream_missing),
    })
    server.add_generic_rpc_handlers((handler,))
    sock = tmp_path / "s.sock"
    server.add_insecure_port(f"unix:{sock}")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
            yield ch
    finally:
        await server.stop(None)


async def test_errors_map_to_status_codes_and_server_keeps_serving(channel):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await channel.unary_unary("/t.T/Busy")(b"")
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert err.value.details() == "sequence 'boot' is in progress"

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await channel.unary_unary("/t.T/Bug")(b"")
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert "RuntimeError: a bug" in (err.value.details() or "")

    got = []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for item in channel.unary_stream("/t.T/Stream")(b""):
            got.append(item)
    assert got == [b"first"]
    assert err.value.code() == grpc.StatusCode.NOT_FOUND

    assert await channel.unary_unary("/t.T/Ok")(b"still here") == b"still here"
