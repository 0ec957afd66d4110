"""Errors mapped to gRPC statuses ONCE, by a server interceptor wrapping every handler."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from talos.machinery.errors import TalosError


def status_code(err: TalosError) -> grpc.StatusCode:
    code: grpc.StatusCode = getattr(grpc.StatusCode, err.code, grpc.StatusCode.INTERNAL)
    return code


def _wrap_unary(fn: Callable[[Any, Any], Awaitable[Any]]) -> Callable[[Any, Any], Awaitable[Any]]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await fn(request, context)
        except TalosError as e:
            await context.abort(status_code(e), str(e))
    return wrapper


def _wrap_stream(fn: Callable[[Any, Any], AsyncIterator[Any]]
                 ) -> Callable[[Any, Any], AsyncIterator[Any]]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        try:
            async for item in fn(request, context):
                yield item
        except TalosError as e:
            await context.abort(status_code(e), str(e))
    return wrapper


class ErrorInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """TalosError raised by any handler -> `context.abort(code, message)`."""

    async def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        if handler.unary_unary is not None:
            return handler._replace(unary_unary=_wrap_unary(handler.unary_unary))
        if handler.unary_stream is not None:
            return handler._replace(unary_stream=_wrap_stream(handler.unary_stream))
        if handler.stream_unary is not None:
            return handler._replace(stream_unary=_wrap_unary(handler.stream_unary))
        if handler.stream_stream is not None:
            return handler._replace(stream_stream=_wrap_stream(handler.stream_stream))
        return handler
