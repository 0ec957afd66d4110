"""`cosi.resource.State` over grpc.aio, serving a State to API clients.

Clients read and watch everything the `authorize` hook lets them; they may write only types
declared `api_writable`. The authorization layer (apid) plugs in through `authorize`, called
as `authorize(context, type_name, verb)` with verb "read" or "write"; it raises
PermissionDenied (see `talos.machinery.resources.is_sensitive`).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc

from talos.api.v1alpha1 import resource_pb2, state_pb2, state_pb2_grpc
from talos.cosi.resource import Pointer, Resource
from talos.cosi.state import Event, EventType, LabelOp, LabelQuery, LabelTerm, Query, State
from talos.cosi.wire import resource_from_proto, resource_to_proto
from talos.machinery.errors import InvalidArgument, PermissionDenied, TalosError
from talos.machinery.resources.definition import lookup

Authorize = Callable[[grpc.aio.ServicerContext, str, str], None]
F = TypeVar("F", bound=Callable[..., Any])


async def abort_with(context: grpc.aio.ServicerContext, err: TalosError) -> None:
    await context.abort(getattr(grpc.StatusCode, err.code, grpc.StatusCode.INTERNAL), str(err))


def _unary(fn: F) -> F:
    @functools.wraps(fn)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await fn(self, request, context)
        except TalosError as e:
            await abort_with(context, e)
    return wrapper  # type: ignore[return-value]


def _stream(fn: F) -> F:
    @functools.wraps(fn)
    async def wrapper(self: Any, request: Any,
                      context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        try:
            async for item in fn(self, request, context):
                yield item
        except TalosError as e:
            await abort_with(context, e)
    return wrapper  # type: ignore[return-value]


def query_from_proto(label_query: Any, id_query: resource_pb2.IDQuery) -> Query:
    return Query(tuple(LabelQuery(tuple(_term(t) for t in q.terms)) for q in label_query),
                 id_query.regexp)


def _term(t: resource_pb2.LabelTerm) -> LabelTerm:
    try:
        op = LabelOp(t.op)
    except ValueError:
        raise InvalidArgument(f"label term {t.key!r}: unknown operator {t.op}") from None
    return LabelTerm(t.key, op, tuple(t.value), t.invert)


def event_to_proto(ev: Event) -> state_pb2.Event:
    pb = state_pb2.Event(event_type=ev.type.name)
    if ev.resource is not None:
        pb.resource.CopyFrom(resource_to_proto(ev.resource))
    if ev.old is not None:
        pb.old.CopyFrom(resource_to_proto(ev.old))
    if ev.error is not None:
        pb.error = ev.error
    return pb


class StateServicer(state_pb2_grpc.StateServicer):
    def __init__(self, state: State, *, authorize: Authorize | None = None,
                 watch_batch: int = 256) -> None:
        self.state = state
        self._authorize = authorize
        self._watch_batch = watch_batch

    def _check(self, context: grpc.aio.ServicerContext, ns: str, type: str, verb: str) -> None:
        if not type:
            raise InvalidArgument("type: is empty (expected a resource type such as "
                                  "'Services.v1alpha1.talos.dev')")
        if not ns:
            raise InvalidArgument(f"namespace: is empty (resource type {type})")
        if verb == "write":
            rt = lookup(type)
            if rt is None or not rt.api_writable:
                raise PermissionDenied(
                    f"resource type {type} is read-only through the API")
        if self._authorize is not None:
            self._authorize(context, type, verb)

    @_unary
    async def Get(self, request: state_pb2.GetRequest,
                  context: grpc.aio.ServicerContext) -> state_pb2.GetResponse:
        self._check(context, request.namespace, request.type, "read")
        r = await self.state.get(request.namespace, request.type, request.id)
        return state_pb2.GetResponse(resource=resource_to_proto(r))

    @_stream
    async def List(self, request: state_pb2.ListRequest,
                   context: grpc.aio.ServicerContext) -> AsyncIterator[state_pb2.ListResponse]:
        self._check(context, request.namespace, request.type, "read")
        q = query_from_proto(request.options.label_query, request.options.id_query)
        for r in await self.state.list(request.namespace, request.type, q):
            yield state_pb2.ListResponse(resource=resource_to_proto(r))

    def _incoming(self, pb: resource_pb2.Resource) -> Resource:
        return resource_from_proto(pb)

    @_unary
    async def Create(self, request: state_pb2.CreateRequest,
                     context: grpc.aio.ServicerContext) -> state_pb2.CreateResponse:
        md = request.resource.metadata
        self._check(context, md.namespace, md.type, "write")
        r = await self.state.create(self._incoming(request.resource),
                                    owner=request.options.owner)
        return state_pb2.CreateResponse(resource=resource_to_proto(r))

    @_unary
    async def Update(self, request: state_pb2.UpdateRequest,
                     context: grpc.aio.ServicerContext) -> state_pb2.UpdateResponse:
        md = request.new_resource.metadata
        self._check(context, md.namespace, md.type, "write")
        r = await self.state.update(self._incoming(request.new_resource),
                                    owner=request.options.owner)
        return state_pb2.UpdateResponse(resource=resource_to_proto(r))

    @_unary
    async def Destroy(self, request: state_pb2.DestroyRequest,
                      context: grpc.aio.ServicerContext) -> state_pb2.DestroyResponse:
        self._check(context, request.namespace, request.type, "write")
        await self.state.destroy(Pointer(request.namespace, request.type, request.id),
                                 owner=request.options.owner)
        return state_pb2.DestroyResponse()

    @_unary
    async def Teardown(self, request: state_pb2.TeardownRequest,
                       context: grpc.aio.ServicerContext) -> state_pb2.TeardownResponse:
        self._check(context, request.namespace, request.type, "write")
        ready = await self.state.teardown(Pointer(request.namespace, request.type, request.id),
                                          owner=request.options.owner)
        return state_pb2.TeardownResponse(destroy_ready=ready)

    @_unary
    async def TeardownAndDestroy(
            self, request: state_pb2.TeardownAndDestroyRequest,
            context: grpc.aio.ServicerContext) -> state_pb2.TeardownAndDestroyResponse:
        self._check(context, request.namespace, request.type, "write")
        await self.state.teardown_and_destroy(
            Pointer(request.namespace, request.type, request.id), owner=request.options.owner)
        return state_pb2.TeardownAndDestroyResponse()

    @_stream
    async def Watch(self, request: state_pb2.WatchRequest,
                    context: grpc.aio.ServicerContext) -> AsyncIterator[state_pb2.WatchResponse]:
        self._check(context, request.namespace, request.type, "read")
        opts = request.options
        if opts.HasField("start_from_bookmark") or opts.bootstrap_bookmark or opts.aggregated:
            raise InvalidArgument("options: bookmarks and aggregated watches are not supported")
        q = query_from_proto(opts.label_query, opts.id_query)
        v1 = request.api_version >= 1
        watch = self.state.watch(
            request.namespace, request.type, request.id if request.HasField("id") else None,
            bootstrap=opts.bootstrap_contents, tail_events=opts.tail_events, query=q)
        with watch:
            async for first in watch:
                batch = [first]
                while len(batch) < self._watch_batch and watch.pending():
                    batch.append(await watch.next())
                out: list[state_pb2.Event] = []
                for ev in batch:
                    if ev.type is EventType.ERRORED and not v1:
                        raise TalosError(ev.error or "watch failed")
                    if ev.type is EventType.BOOTSTRAPPED and not v1:
                        continue
                    out.append(event_to_proto(ev))
                if out:
                    yield state_pb2.WatchResponse(event=out)


def add_to_server(servicer: StateServicer, server: grpc.aio.Server) -> None:
    state_pb2_grpc.add_StateServicer_to_server(servicer, server)


__all__ = ["StateServicer", "add_to_server", "event_to_proto", "query_from_proto"]
