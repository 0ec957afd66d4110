"""The generic proxy: ANY method forwarded as raw bytes, authorized and routed.

Requests and replies are never decoded (identity serializers) except where policy needs it:
the envelope of fanned-out replies is patched at the wire level, and COSI reads by callers
without `os:admin` are checked (secrets denied) and the machine config redacted. Streams are
forwarded message by message (a small bounded queue for fan-out), never buffered whole.
Deadlines are passed on as timeouts; cancelling the incoming call cancels the outgoing ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from talos.apid import cosi_filter, wire
from talos.apid.authz import authorize, may_read_secrets
from talos.apid.backends import Backends
from talos.apid.identity import ROLE_METADATA_KEY, caller_roles
from talos.apid.methods import MethodInfo, lookup
from talos.apid.route import LOCAL, ROUTING_KEYS, Route, parse_route
from talos.machinery.client.hints import maintenance_node_error
from talos.machinery.errors import InvalidArgument, TalosError
from talos.nodeserver.boundary import guard
from talos.nodeserver.decoding import MalformedRequest

_DROP = frozenset({*ROUTING_KEYS, ROLE_METADATA_KEY, "user-agent", "content-type", "te",
                   "authority"})
#: How many stream messages may wait between fanned-out nodes and the caller.
FANOUT_QUEUE = 32
#: Time kept back from the caller's deadline to merge fanned-out replies (seconds, at most
#: 10% of the remaining time).
FANOUT_MARGIN = 0.25
Metadata = tuple[tuple[str, str | bytes], ...]


@dataclass(frozen=True)
class Plan:
    roles: frozenset[str]
    route: Route
    metadata: Metadata
    timeout: float | None
    redact: bool = False


@lru_cache(maxsize=64)
def _role_metadata(roles: frozenset[str]) -> Metadata:
    """The `talos-role` entries for a set of roles (a handful of sets ever occur)."""
    return tuple((ROLE_METADATA_KEY, r) for r in sorted(roles))


def _forward_metadata(incoming: Sequence[tuple[str, str | bytes]],
                      roles: frozenset[str]) -> Metadata:
    kept = tuple((k, v) for k, v in incoming
                 if k not in _DROP and not k.startswith((":", "grpc-")))
    # most calls carry nothing to pass on (user-agent and routing are dropped): the roles'
    # entries are then the whole metadata, built once per role set
    return kept + _role_metadata(roles) if kept else _role_metadata(roles)


def _code_number(code: grpc.StatusCode) -> int:
    return int(code.value[0])


class Proxy(grpc.GenericRpcHandler):  # type: ignore[misc]
    """Every method: unknown ones are admin-only and proxied as bidirectional streams."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends
        #: handlers of declared methods, built once
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}

    # -- handler selection ----------------------------------------------------------

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method: str = details.method
        handler = self._handlers.get(method)
        if handler is not None:
            return handler
        info = lookup(method)
        if info is None:  # not declared: admin-only, proxied as a bidirectional stream
            return self._handler(MethodInfo(method, True, True, fanout=False))
        handler = self._handlers[method] = self._handler(info)
        return handler

    def _handler(self, info: MethodInfo) -> grpc.RpcMethodHandler:
        """Identity (de)serializers: requests and replies stay bytes end to end (the node
        that serves the method decodes the request; one that does not decode is refused
        there as INVALID_ARGUMENT, as apid passes the status on). Guarded once, here: every
        failure becomes the status `talos.nodeserver.status` maps it to."""
        if not info.client_streaming and not info.server_streaming:
            handler = grpc.unary_unary_rpc_method_handler(self._unary_unary(info))
        elif not info.client_streaming:
            handler = grpc.unary_stream_rpc_method_handler(self._unary_stream(info))
        elif not info.server_streaming:
            handler = grpc.stream_unary_rpc_method_handler(self._stream_unary(info))
        else:
            handler = grpc.stream_stream_rpc_method_handler(self._stream_stream(info))
        return guard(handler, info.path)

    # -- common preamble ----------------------------------------------------------------

    def _plan(self, info: MethodInfo, context: grpc.aio.ServicerContext,
              request: bytes | None) -> Plan:
        incoming = tuple(context.invocation_metadata() or ())
        roles = caller_roles(context.auth_context(), incoming)
        authorize(info.path, roles)
        route = parse_route(incoming)
        if route.kind == "many" and not info.fanout:
            if len(route.nodes) > 1:
                raise InvalidArgument(
                    f"{info.path} cannot be sent to several nodes at once (use 'node' and one "
                    "call per node)")
            route = Route("one", route.nodes)
        if route.kind == "one" and self.backends.is_local(route.nodes[0]):
            route = LOCAL  # this node itself: no TLS round trip to ourselves
        redact = False
        if request is not None and cosi_filter.is_cosi_read(info.path) \
                and not may_read_secrets(roles):
            try:
                redact = cosi_filter.check_request(info.path, request)
            except DecodeError:
                raise MalformedRequest(info.request_type) from None
            # Data is redacted where it originates (the local hop), not on every proxy hop.
            redact = redact and route.kind == "local"
        return Plan(roles, route, _forward_metadata(incoming, roles),
                    context.time_remaining(), redact)

    def _channel(self, plan: Plan) -> grpc.aio.Channel:
        if plan.route.kind == "local":
            return self.backends.local()
        return self.backends.remote(plan.route.nodes[0])

    def _where(self, plan: Plan) -> str:
        if plan.route.kind == "local":
            return f"machined ({self.backends.local_target})"
        return f"node {plan.route.nodes[0]!r}"

    def _details(self, where: str, e: grpc.aio.AioRpcError, node: str = "") -> str:
        details = str(e.details() or e.code().name)
        if e.code() == grpc.StatusCode.UNAVAILABLE:
            # a node with a self-signed certificate is in maintenance mode: say so, for any
            # client (stock talosctl too), not "CERTIFICATE_VERIFY_FAILED: self signed …"
            hint = maintenance_node_error(node, details) if node else ""
            details = hint or f"{where} is unavailable: {details}"
        return details

    def _node_error(self, node: str, e: grpc.aio.AioRpcError) -> tuple[str, int]:
        """A fanned-out node's failure: (message, code). Our own node's machined failing reads
        as it does when another apid reports it."""
        if self.backends.is_local(node):
            return self._details(self._where(Plan(frozenset(), LOCAL, (), None)), e), \
                _code_number(e.code())
        details = str(e.details() or e.code().name)
        if e.code() == grpc.StatusCode.UNAVAILABLE:
            details = maintenance_node_error(node, details) or details
        return details, _code_number(e.code())

    async def _fail(self, context: grpc.aio.ServicerContext, plan: Plan,
                    e: grpc.aio.AioRpcError) -> None:
        node = plan.route.nodes[0] if plan.route.kind != "local" else ""
        await context.abort(e.code(), self._details(self._where(plan), e, node))

    # -- unary --------------------------------------------------------------------------

    def _unary_unary(self, info: MethodInfo) -> Any:
        async def handle(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            plan = self._plan(info, context, request)
            if plan.route.kind == "many":
                return await self._fanout_unary(info, plan, request)
            call = self._channel(plan).unary_unary(info.path)(
                request, metadata=plan.metadata, timeout=plan.timeout)
            try:
                reply: bytes = await call
            except grpc.aio.AioRpcError as e:
                await self._fail(context, plan, e)
                raise  # unreachable: abort raises
            except asyncio.CancelledError:
                call.cancel()
                raise
            if plan.redact:
                reply = cosi_filter.redact_response(info.path, reply)
            return reply
        return handle

    async def _fanout_unary(self, info: MethodInfo, plan: Plan, request: bytes) -> bytes:
        # Each node gets a little less than the caller's deadline, so a slow node becomes a
        # per-node error in a reply that still arrives in time.
        timeout = plan.timeout
        if timeout is not None:
            timeout = max(0.0, timeout - min(FANOUT_MARGIN, timeout * 0.1))

        async def one(node: str) -> bytes:
            call = self.backends.channel_for(node).unary_unary(info.path)(
                request, metadata=plan.metadata, timeout=timeout)
            try:
                return wire.stamp_reply(await call, node)
            except grpc.aio.AioRpcError as e:
                return wire.error_reply(node, *self._node_error(node, e))
            except TalosError as e:
                return wire.error_reply(node, f"malformed reply: {e}",
                                        _code_number(grpc.StatusCode.INTERNAL))
            except asyncio.CancelledError:
                call.cancel()
                raise

        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(one(n)) for n in plan.route.nodes]
        return b"".join(t.result() for t in tasks)

    # -- server streaming ---------------------------------------------------------------

    def _unary_stream(self, info: MethodInfo) -> Any:
        async def handle(request: bytes, context: grpc.aio.ServicerContext
                         ) -> AsyncIterator[bytes]:
            plan = self._plan(info, context, request)
            if plan.route.kind == "many":
                async for msg in self._fanout_stream(info, plan, request):
                    yield msg
                return
            call = self._channel(plan).unary_stream(info.path)(
                request, metadata=plan.metadata, timeout=plan.timeout)
            try:
                async for msg in call:
                    yield (cosi_filter.redact_response(info.path, msg) if plan.redact
                           else msg)
            except grpc.aio.AioRpcError as e:
                await self._fail(context, plan, e)
            finally:
                call.cancel()
        return handle

    async def _fanout_stream(self, info: MethodInfo, plan: Plan, request: bytes
                             ) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(FANOUT_QUEUE)

        async def pump(node: str) -> None:
            call = self.backends.channel_for(node).unary_stream(info.path)(
                request, metadata=plan.metadata, timeout=plan.timeout)
            try:
                async for msg in call:
                    await queue.put(wire.stamp_message(msg, node))
            except grpc.aio.AioRpcError as e:
                await queue.put(wire.error_message(node, *self._node_error(node, e)))
            except TalosError as e:
                await queue.put(wire.error_message(
                    node, f"malformed message: {e}", _code_number(grpc.StatusCode.INTERNAL)))
            finally:
                call.cancel()
            await queue.put(None)

        async with asyncio.TaskGroup() as tg:
            for node in plan.route.nodes:
                tg.create_task(pump(node))
            remaining = len(plan.route.nodes)
            while remaining:
                item = await queue.get()
                if item is None:
                    remaining -= 1
                else:
                    yield item

    # -- client streaming (one-to-one only) ------------------------------------------

    def _stream_unary(self, info: MethodInfo) -> Any:
        async def handle(requests: AsyncIterator[bytes],
                         context: grpc.aio.ServicerContext) -> bytes:
            plan = self._plan(info, context, None)
            call = self._channel(plan).stream_unary(info.path)(
                requests, metadata=plan.metadata, timeout=plan.timeout)
            try:
                reply: bytes = await call
            except grpc.aio.AioRpcError as e:
                await self._fail(context, plan, e)
                raise
            except asyncio.CancelledError:
                call.cancel()
                raise
            return reply
        return handle

    def _stream_stream(self, info: MethodInfo) -> Any:
        async def handle(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
                         ) -> AsyncIterator[bytes]:
            plan = self._plan(info, context, None)
            call = self._channel(plan).stream_stream(info.path)(
                requests, metadata=plan.metadata, timeout=plan.timeout)
            try:
                async for msg in call:
                    yield msg
            except grpc.aio.AioRpcError as e:
                await self._fail(context, plan, e)
            finally:
                call.cancel()
        return handle
