"""The one place where a TalosError becomes a gRPC status.

Wraps every handler on the server; a TalosError aborts the call with the status code it names
and its message. Anything else is logged with its traceback and becomes INTERNAL, and the
server (PID 1) keeps serving.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from talos.machinery.errors import TalosError

log = logging.getLogger(__name__)


async def _abort(context: grpc.aio.ServicerContext[Any, Any], exc: BaseException,
                 method: str) -> None:
    if isinstance(exc, TalosError):
        await context.abort(grpc.StatusCode[exc.code], str(exc))
    if isinstance(exc, NotImplementedError):
        await context.abort(grpc.StatusCode.UNIMPLEMENTED,
                            f"{method} is not implemented by this node")
    log.exception("%s failed", method, exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, f"{method}: {type(exc).__name__}: {exc}")


def _wrap_unary(fn: Callable[..., Awaitable[Any]], method: str) -> Callable[..., Any]:
    async def handler(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await fn(request, context)
        except (TalosError, Exception) as exc:
            if isinstance(exc, grpc.aio.AbortError):
                raise
            await _abort(context, exc, method)
    return handler


def _wrap_stream(fn: Callable[..., Any], method: str) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(fn):
        async def gen(request: Any, context: grpc.aio.ServicerContext[Any, Any]
                      ) -> AsyncIterator[Any]:
            try:
                async for item in fn(request, context):
                    yield item
            except (TalosError, Exception) as exc:
                if isinstance(exc, grpc.aio.AbortError):
                    raise
                await _abort(context, exc, method)
        return gen
    return _wrap_unary(fn, method)


class ErrorInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        method = details.method
        if handler.unary_unary is not None:
            return handler._replace(unary_unary=_wrap_unary(handler.unary_unary, method))
        if handler.unary_stream is not None:
            return handler._replace(unary_stream=_wrap_stream(handler.unary_stream, method))
        if handler.stream_unary is not None:
            return handler._replace(stream_unary=_wrap_unary(handler.stream_unary, method))
        if handler.stream_stream is not None:
            return handler._replace(stream_stream=_wrap_stream(handler.stream_stream, method))
        return handler
