"""`sidero.discovery.server.Cluster` over gRPC, backed by `DiscoveryState`."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import AsyncIterator

import grpc

from talos.api.discovery.server import cluster_pb2 as pb
from talos.api.discovery.server import cluster_pb2_grpc
from talos.discovery.state import Affiliate, DiscoveryState
from talos.nodeserver.boundary import Boundary

log = logging.getLogger("discovery")


def _pb(a: Affiliate) -> pb.Affiliate:
    return pb.Affiliate(id=a.id, data=a.data, endpoints=list(a.endpoints))


def _peer_ip(peer: str) -> bytes:
    """`ipv4:10.5.0.2:1234` / `ipv6:[fd00::2]:1234` -> the address's binary form."""
    kind, _, rest = peer.partition(":")
    host = rest.rsplit(":", 1)[0].strip("[]") if kind in ("ipv4", "ipv6") else ""
    try:
        return ipaddress.ip_address(host).packed
    except ValueError:
        return b""


class ClusterServicer(cluster_pb2_grpc.ClusterServicer):
    def __init__(self, state: DiscoveryState) -> None:
        self.state = state

    async def Hello(self, request: pb.HelloRequest, context: grpc.aio.ServicerContext
                    ) -> pb.HelloResponse:
        if not request.cluster_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "cluster_id: required")
        return pb.HelloResponse(client_ip=_peer_ip(context.peer()))

    async def AffiliateUpdate(self, request: pb.AffiliateUpdateRequest,
                              context: grpc.aio.ServicerContext) -> pb.AffiliateUpdateResponse:
        ttl = request.ttl.ToNanoseconds() / 1e9 if request.HasField("ttl") else 0.0
        data = request.affiliate_data if request.HasField("affiliate_data") else None
        self.state.update(request.cluster_id, request.affiliate_id, data,
                          list(request.affiliate_endpoints), ttl)
        return pb.AffiliateUpdateResponse()

    async def AffiliateDelete(self, request: pb.AffiliateDeleteRequest,
                              context: grpc.aio.ServicerContext) -> pb.AffiliateDeleteResponse:
        self.state.delete(request.cluster_id, request.affiliate_id)
        return pb.AffiliateDeleteResponse()

    async def List(self, request: pb.ListRequest, context: grpc.aio.ServicerContext
                   ) -> pb.ListResponse:
        affiliates = self.state.affiliates(request.cluster_id)
        return pb.ListResponse(affiliates=[_pb(a) for a in affiliates])

    async def Watch(self, request: pb.WatchRequest, context: grpc.aio.ServicerContext
                    ) -> AsyncIterator[pb.WatchResponse]:
        self.state.check_ids(request.cluster_id)
        with self.state.watch(request.cluster_id) as (snapshot, queue):
            yield pb.WatchResponse(affiliates=[_pb(a) for a in snapshot])
            while True:
                change = await queue.get()
                if change.deleted:
                    yield pb.WatchResponse(affiliates=[pb.Affiliate(id=change.affiliate.id)],
                                           deleted=True)
                else:
                    yield pb.WatchResponse(affiliates=[_pb(change.affiliate)])


async def expire_loop(state: DiscoveryState, every: float = 1.0) -> None:
    while True:
        await asyncio.sleep(every)
        if gone := state.expire():
            log.info("expired %d affiliate(s)", gone)


async def serve(listen: str, ready: asyncio.Event | None = None,
                state: DiscoveryState | None = None) -> None:
    """Serve until cancelled."""
    state = state or DiscoveryState()
    # the boundary maps the state's TalosErrors and refuses undecodable requests
    server = grpc.aio.server(interceptors=[Boundary()])
    cluster_pb2_grpc.add_ClusterServicer_to_server(
        ClusterServicer(state), server)
    if server.add_insecure_port(listen) == 0:
        raise OSError(f"discovery: cannot listen on {listen}")
    await server.start()
    log.info("discovery service listening on %s (plaintext gRPC)", listen)
    if ready is not None:
        ready.set()
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(expire_loop(state))
            tg.create_task(server.wait_for_termination())
    finally:
        await server.stop(grace=0.5)
