"""The discovery service over real gRPC on loopback: Hello reports the caller's address,
Watch starts with a snapshot and then streams updates and deletions, bad requests are
INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import grpc
import grpc.aio
import pytest
from google.protobuf import duration_pb2

from talos.api.discovery.server import cluster_pb2 as pb
from talos.api.discovery.server import cluster_pb2_grpc
from talos.discovery.server import serve


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def stub() -> AsyncIterator[cluster_pb2_grpc.ClusterStub]:
    listen = f"127.0.0.1:{_free_port()}"
    ready = asyncio.Event()
    task = asyncio.ensure_future(serve(listen, ready))
    try:
        await asyncio.wait_for(ready.wait(), 60)
        async with grpc.aio.insecure_channel(listen) as ch:
            yield cluster_pb2_grpc.ClusterStub(ch)  # type: ignore[no-untyped-call]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def _ttl(seconds: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=seconds)


async def test_hello_reports_the_callers_address(stub: cluster_pb2_grpc.ClusterStub) -> None:
    resp = await stub.Hello(pb.HelloRequest(cluster_id="c", client_version="v1"), timeout=10)
    assert resp.client_ip == bytes([127, 0, 0, 1])
    assert not resp.HasField("redirect")


async def test_watch_streams_a_snapshot_then_changes(
        stub: cluster_pb2_grpc.ClusterStub) -> None:
    await stub.AffiliateUpdate(pb.AffiliateUpdateRequest(
        cluster_id="c", affiliate_id="a", affiliate_data=b"sealed-a", ttl=_ttl(60)), timeout=10)
    watch = stub.Watch(pb.WatchRequest(cluster_id="c"))
    it = watch.__aiter__()
    first = await asyncio.wait_for(it.__anext__(), 30)
    assert [(a.id, a.data) for a in first.affiliates] == [("a", b"sealed-a")]
    await stub.AffiliateUpdate(pb.AffiliateUpdateRequest(
        cluster_id="c", affiliate_id="b", affiliate_data=b"sealed-b", ttl=_ttl(60)), timeout=10)
    update = await asyncio.wait_for(it.__anext__(), 30)
    assert [(a.id, a.data) for a in update.affiliates] == [("b", b"sealed-b")]
    assert not update.deleted
    await stub.AffiliateDelete(pb.AffiliateDeleteRequest(cluster_id="c", affiliate_id="a"),
                               timeout=10)
    deleted = await asyncio.wait_for(it.__anext__(), 30)
    assert deleted.deleted and [a.id for a in deleted.affiliates] == ["a"]
    watch.cancel()
    listed = await stub.List(pb.ListRequest(cluster_id="c"), timeout=10)
    assert [a.id for a in listed.affiliates] == ["b"]
    other = await stub.List(pb.ListRequest(cluster_id="other"), timeout=10)
    assert list(other.affiliates) == []


async def test_bad_requests_name_the_field(stub: cluster_pb2_grpc.ClusterStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.AffiliateUpdate(pb.AffiliateUpdateRequest(
            cluster_id="c", affiliate_id="a", affiliate_data=b"x"), timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ttl" in (e.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.List(pb.ListRequest(), timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "cluster_id" in (e.value.details() or "")
