"""The server boundary: errors map to status codes in one place, requests that do not
decode are INVALID_ARGUMENT naming their type, and a failing handler never stops the server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import empty_pb2

from talos.api.common import common_pb2
from talos.machinery.errors import Busy, NotFound
from talos.nodeserver.boundary import Boundary

MALFORMED = b"\x08\x80"  # field 1, a varint cut short: no message decodes from it


async def _unary_busy(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise Busy("sequence 'boot' is in progress")


async def _unary_bug(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise RuntimeError("a bug")


async def _unary_ok(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


async def _stream_missing(request: bytes, context: grpc.aio.ServicerContext):
    yield b"first"
    raise NotFound("service 'x' not found")


async def _unary_in_task_group(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    async def fail() -> None:
        raise NotFound("service 'y' not found")
    async with asyncio.TaskGroup() as tg:
        tg.create_task(fail())
    return b""


async def _typed(request: empty_pb2.Empty, context: grpc.aio.ServicerContext
                 ) -> empty_pb2.Empty:
    return empty_pb2.Empty()


async def _typed_stream(request: empty_pb2.Empty, context: grpc.aio.ServicerContext
                        ) -> AsyncIterator[empty_pb2.Empty]:
    yield empty_pb2.Empty()


async def _upload(requests: AsyncIterator[common_pb2.Data], context: grpc.aio.ServicerContext
                  ) -> common_pb2.Data:
    got = b"".join([d.bytes async for d in requests])
    return common_pb2.Data(bytes=got)


def _typed_handlers() -> dict[str, grpc.RpcMethodHandler]:
    empty = {"request_deserializer": empty_pb2.Empty.FromString,
             "response_serializer": empty_pb2.Empty.SerializeToString}
    return {
        "Typed": grpc.unary_unary_rpc_method_handler(_typed, **empty),
        "TypedStream": grpc.unary_stream_rpc_method_handler(_typed_stream, **empty),
        "Upload": grpc.stream_unary_rpc_method_handler(
            _upload, request_deserializer=common_pb2.Data.FromString,
            response_serializer=common_pb2.Data.SerializeToString),
    }


@pytest.fixture
async def channel(tmp_path):
    server = grpc.aio.server(interceptors=[Boundary()])
    handler = grpc.method_handlers_generic_handler("t.T", {
        "Busy": grpc.unary_unary_rpc_method_handler(_unary_busy),
        "Bug": grpc.unary_unary_rpc_method_handler(_unary_bug),
        "Ok": grpc.unary_unary_rpc_method_handler(_unary_ok),
        "Stream": grpc.unary_stream_rpc_method_handler(_stream_missing),
        "Group": grpc.unary_unary_rpc_method_handler(_unary_in_task_group),
        **_typed_handlers(),
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

    got = []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for item in channel.unary_stream("/t.T/Stream")(b""):
            got.append(item)
    assert got == [b"first"]
    assert err.value.code() == grpc.StatusCode.NOT_FOUND

    assert await channel.unary_unary("/t.T/Ok")(b"still here") == b"still here"


async def test_a_bug_is_internal_naming_the_method_without_python_class_names(channel):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await channel.unary_unary("/t.T/Bug")(b"")
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert err.value.details() == "/t.T/Bug: internal error: a bug"


async def test_one_error_from_a_task_group_maps_as_that_error(channel):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await channel.unary_unary("/t.T/Group")(b"")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert err.value.details() == "service 'y' not found"


@pytest.mark.parametrize("method", ["/t.T/Typed", "/t.T/TypedStream"])
async def test_a_request_that_does_not_decode_is_invalid_argument_naming_its_type(
        channel, method):
    call = (channel.unary_unary(method) if method.endswith("Typed")
            else channel.unary_stream(method))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        reply = call(MALFORMED)
        if method.endswith("Stream"):
            [_ async for _ in reply]
        else:
            await reply
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith(
        "malformed request: cannot decode google.protobuf.Empty")
    assert await channel.unary_unary("/t.T/Typed")(b"") == b""  # empty is a valid message


async def test_a_client_stream_message_that_does_not_decode_is_invalid_argument(channel):
    async def requests() -> AsyncIterator[bytes]:
        yield common_pb2.Data(bytes=b"first").SerializeToString()
        yield MALFORMED

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await channel.stream_unary("/t.T/Upload")(requests())
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith("malformed request: cannot decode common.Data")

    async def good() -> AsyncIterator[bytes]:
        yield common_pb2.Data(bytes=b"ok").SerializeToString()
    reply = await channel.stream_unary("/t.T/Upload")(good())
    assert common_pb2.Data.FromString(reply).bytes == b"ok"
