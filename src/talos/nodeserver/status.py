"""TalosError -> gRPC status, mapped ONCE: handlers are wrapped when they are built (no
per-call interceptor)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from talos.machinery.errors import TalosError


def status_code(err: TalosError) -> grpc.StatusCode:
    code: grpc.StatusCode = getattr(grpc.StatusCode, err.code, grpc.StatusCode.INTERNAL)
    return code


def guard_unary(fn: Callable[[Any, Any], Awaitable[Any]]) -> Callable[[Any, Any], Awaitable[Any]]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await fn(request, context)
        except TalosError as e:
            await context.abort(status_code(e), str(e))
    return wrapper


def guard_stream(fn: Callable[[Any, Any], AsyncIterator[Any]]
                 ) -> Callable[[Any, Any], AsyncIterator[Any]]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        try:
            async for item in fn(request, context):
                yield item
        except TalosError as e:
            await context.abort(status_code(e), str(e))
    return wrapper
