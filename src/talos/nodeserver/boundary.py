"""The boundary of every gRPC server: requests that do not decode are refused as
INVALID_ARGUMENT naming the request type, and every failure of a handler becomes the status
`talos.nodeserver.status` maps it to.

`guard(handler, method)` wraps one method handler (apid wraps its proxy handlers once, when
it builds them); `Boundary` is the interceptor doing the same for servers whose handlers are
registered by generated code (machined, maintenance mode, trustd, discovery). Handlers with
no request deserializer (apid's raw-bytes proxy) get only the error mapping.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from talos.nodeserver.decoding import Undecodable, guarded, type_name_of
from talos.nodeserver.status import abort

Handler = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Any]


def _check(request: Any) -> Any:
    if isinstance(request, Undecodable):
        raise request.error()
    return request


async def _checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        yield _check(request)


def _unary_response(fn: Handler, method: str, *, request_stream: bool, check: bool
                    ) -> Handler:
    async def handler(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            if check:
                request = _checked(request) if request_stream else _check(request)
            result = fn(request, context)  # generated "unimplemented" stubs are not async
            return await result if inspect.isawaitable(result) else result
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await abort(context, exc, method)
    return handler


def _stream_response(fn: Handler, method: str, *, request_stream: bool, check: bool
                     ) -> Handler:
    if not inspect.isasyncgenfunction(fn):  # writes with context.write(), or a stub
        return _unary_response(fn, method, request_stream=request_stream, check=check)

    async def handler(request: Any, context: grpc.aio.ServicerContext[Any, Any]
                      ) -> AsyncIterator[Any]:
        try:
            if check:
                request = _checked(request) if request_stream else _check(request)
            async for item in fn(request, context):
                yield item
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await abort(context, exc, method)
    return handler


def guard(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    """`handler` with undecodable requests refused and every failure mapped to a status."""
    deserializer = handler.request_deserializer
    check = deserializer is not None
    if check:
        name = type_name_of(deserializer, f"the request of {method}")
        handler = handler._replace(request_deserializer=guarded(deserializer, name))
    if handler.unary_unary is not None:
        return handler._replace(unary_unary=_unary_response(
            handler.unary_unary, method, request_stream=False, check=check))
    if handler.unary_stream is not None:
        return handler._replace(unary_stream=_stream_response(
            handler.unary_stream, method, request_stream=False, check=check))
    if handler.stream_unary is not None:
        return handler._replace(stream_unary=_unary_response(
            handler.stream_unary, method, request_stream=True, check=check))
    if handler.stream_stream is not None:
        return handler._replace(stream_stream=_stream_response(
            handler.stream_stream, method, request_stream=True, check=check))
    return handler


class Boundary(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Guards every handler of the server it is installed on; install it first (outermost),
    so what other interceptors put in front of a handler is guarded too."""

    def __init__(self) -> None:
        #: method -> (the handler the server resolved, its guarded form): the server
        #: resolves the same handler object for a method on every call, so it is wrapped
        #: once, not per call; a different handler (an interceptor behind this one may
        #: choose per call) is wrapped anew
        self._guarded: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        method: str = details.method
        cached = self._guarded.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = guard(handler, method)
        self._guarded[method] = (handler, wrapped)
        return wrapped
