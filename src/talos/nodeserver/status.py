"""Any failure of a handler -> one gRPC status, decided here for every server.

A TalosError names its own code (`talos.machinery.errors`) and its message goes to the
caller as is. NotImplementedError is UNIMPLEMENTED. Anything else is a bug: it is logged
with its traceback, and the caller gets INTERNAL naming the method and the error's message,
never a Python class name or a traceback. A TaskGroup failing with a single error maps as
that error.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import grpc

from talos.machinery.errors import TalosError

log = logging.getLogger("talos.nodeserver")


def status_code(err: TalosError) -> grpc.StatusCode:
    code: grpc.StatusCode = getattr(grpc.StatusCode, err.code, grpc.StatusCode.INTERNAL)
    return code


def _single(exc: BaseException) -> BaseException:
    """The one error inside (possibly nested) exception groups of one error each."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def status_of(exc: BaseException, method: str) -> tuple[grpc.StatusCode, str]:
    """(code, details) the caller of `method` sees for `exc`."""
    exc = _single(exc)
    if isinstance(exc, TalosError):
        return status_code(exc), str(exc)
    if isinstance(exc, NotImplementedError):
        return grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented by this node"
    text = str(exc).strip()
    return grpc.StatusCode.INTERNAL, (f"{method}: internal error: {text}" if text else
                                      f"{method}: internal error (see the server's log)")


async def abort(context: grpc.aio.ServicerContext[Any, Any], exc: BaseException,
                method: str) -> NoReturn:
    """End the call with the status `exc` maps to (unexpected errors are logged first)."""
    code, details = status_of(exc, method)
    if not isinstance(_single(exc), (TalosError, NotImplementedError)):
        log.error("%s failed", method, exc_info=exc)
    await context.abort(code, details)
    raise AssertionError("unreachable: abort raises")  # pragma: no cover
