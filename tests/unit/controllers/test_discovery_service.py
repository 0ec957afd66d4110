"""cluster.DiscoveryServiceController against the real discovery service, in-process over
gRPC on loopback: it pushes this node's affiliate sealed with the cluster key, publishes the
other nodes the service reports (not those sealed with another key), removes them when the
service drops them or discovery is turned off, and deletes its own entry when the node
resets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import grpc.aio
import pytest
from google.protobuf import duration_pb2

from talos.api.discovery.server import cluster_pb2 as pb
from talos.api.discovery.server import cluster_pb2_grpc
from talos.cosi.testing import ControllerHarness
from talos.discovery.server import serve
from talos.machined.controllers.cluster.cipher import decrypt_affiliate, encrypt_affiliate
from talos.machined.controllers.cluster.discovery_service import DiscoveryServiceController
from talos.machinery.resources.cluster import (
    AFFILIATE,
    DISCOVERY_CONFIG,
    DISCOVERY_CONFIG_ID,
    IDENTITY,
    LOCAL_IDENTITY,
    AffiliateSpec,
    DiscoveryConfigSpec,
    IdentitySpec,
)
from talos.machinery.resources.runtime import MACHINE_STATUS, MachineStatusSpec

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
CLUSTER = "cluster-1"
LOCAL = AffiliateSpec(node_id="local-id", addresses=("10.5.0.2",), hostname="cp-1",
                      nodename="cp-1", operating_system="Talos", machine_type="controlplane")
PEER = AffiliateSpec(node_id="peer-id", addresses=("10.5.0.3",), hostname="worker-1",
                     nodename="worker-1", operating_system="Talos", machine_type="worker")

Service = cluster_pb2_grpc.ClusterStub


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def service() -> AsyncIterator[tuple[str, Service]]:
    """The discovery service on loopback: its endpoint and a client of it (another node)."""
    listen = f"127.0.0.1:{_free_port()}"
    ready = asyncio.Event()
    task = asyncio.ensure_future(serve(listen, ready))
    try:
        await asyncio.wait_for(ready.wait(), 60)
        async with grpc.aio.insecure_channel(listen) as ch:
            yield listen, cluster_pb2_grpc.ClusterStub(ch)  # type: ignore[no-untyped-call]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def push(stub: Service, affiliate_id: str, spec: AffiliateSpec, key: bytes = KEY) -> None:
    await stub.AffiliateUpdate(pb.AffiliateUpdateRequest(
        cluster_id=CLUSTER, affiliate_id=affiliate_id,
        affiliate_data=encrypt_affiliate(key, spec),
        ttl=duration_pb2.Duration(seconds=600)), timeout=10)


async def until_service(stub: Service, what: str,
                        check: Callable[[dict[str, bytes]], bool]) -> dict[str, bytes]:
    """What the service holds for the cluster (affiliate id -> sealed data), once `check`
    holds; read from its Watch stream (a snapshot, then changes)."""
    held: dict[str, bytes] = {}
    call = stub.Watch(pb.WatchRequest(cluster_id=CLUSTER))
    try:
        async with asyncio.timeout(30):
            snapshot = True
            async for resp in call:
                if snapshot:
                    held = {}
                    snapshot = False
                for a in resp.affiliates:
                    if resp.deleted:
                        held.pop(a.id, None)
                    else:
                        held[a.id] = a.data
                if check(held):
                    return held
    except TimeoutError:
        raise AssertionError(f"waited 30s for the discovery service to hold {what}; "
                             f"it holds {sorted(held)}") from None
    finally:
        call.cancel()
    raise AssertionError(f"the discovery service's watch ended before it held {what}")


def config(endpoint: str, enabled: bool = True) -> DiscoveryConfigSpec:
    return DiscoveryConfigSpec(
        discovery_enabled=enabled, registry_service_enabled=enabled, service_endpoint=endpoint,
        service_endpoint_insecure=True, service_encryption_key=KEY, service_cluster_id=CLUSTER)


async def test_affiliates_are_exchanged_through_the_service(
        service: tuple[str, Service]) -> None:
    endpoint, stub = service
    async with ControllerHarness(DiscoveryServiceController()) as h:
        await h.put(IDENTITY, LOCAL_IDENTITY, IdentitySpec(LOCAL.node_id))
        await h.put(AFFILIATE, LOCAL.node_id, LOCAL, owner="cluster.LocalAffiliateController")
        await h.put(DISCOVERY_CONFIG, DISCOVERY_CONFIG_ID, config(endpoint))

        # ours reaches the service, sealed with the cluster key
        held = await until_service(stub, "the local affiliate",
                                   lambda held: LOCAL.node_id in held)
        assert decrypt_affiliate(KEY, held[LOCAL.node_id]) == LOCAL

        # another node's comes back as an Affiliate; one sealed with another key does not
        await push(stub, "stranger-id", PEER, key=OTHER_KEY)
        await push(stub, PEER.node_id, PEER)
        r = await h.until_output(AFFILIATE, PEER.node_id)
        assert r.spec == PEER
        assert sorted(h.outputs(AFFILIATE)) == [PEER.node_id]  # ours is not its output

        # a change of ours is pushed again
        renamed = AffiliateSpec(**{**LOCAL.__dict__, "hostname": "cp-9", "nodename": "cp-9"})
        await h.put(AFFILIATE, LOCAL.node_id, renamed, owner="cluster.LocalAffiliateController")
        await until_service(stub, "the renamed local affiliate", lambda held: (
            LOCAL.node_id in held
            and decrypt_affiliate(KEY, held[LOCAL.node_id]).hostname == "cp-9"))

        # the service drops the peer: so does the node
        await stub.AffiliateDelete(pb.AffiliateDeleteRequest(
            cluster_id=CLUSTER, affiliate_id=PEER.node_id), timeout=10)
        await h.until_gone(AFFILIATE, PEER.node_id)


async def test_discovery_turned_off_removes_the_discovered_nodes(
        service: tuple[str, Service]) -> None:
    endpoint, stub = service
    await push(stub, PEER.node_id, PEER)
    async with ControllerHarness(DiscoveryServiceController()) as h:
        await h.put(IDENTITY, LOCAL_IDENTITY, IdentitySpec(LOCAL.node_id))
        await h.put(DISCOVERY_CONFIG, DISCOVERY_CONFIG_ID, config(endpoint))
        await h.until_output(AFFILIATE, PEER.node_id, lambda s: s == PEER)

        await h.put(DISCOVERY_CONFIG, DISCOVERY_CONFIG_ID, config(endpoint, enabled=False))
        await h.until_gone(AFFILIATE, PEER.node_id)
        await h.settled()
        assert h.outputs(AFFILIATE) == {}


async def test_a_resetting_node_leaves_the_service(service: tuple[str, Service]) -> None:
    endpoint, stub = service
    async with ControllerHarness(DiscoveryServiceController()) as h:
        await h.put(IDENTITY, LOCAL_IDENTITY, IdentitySpec(LOCAL.node_id))
        await h.put(AFFILIATE, LOCAL.node_id, LOCAL, owner="cluster.LocalAffiliateController")
        await h.put(MACHINE_STATUS, "machine", MachineStatusSpec(stage="running"))
        await h.put(DISCOVERY_CONFIG, DISCOVERY_CONFIG_ID, config(endpoint))
        await until_service(stub, "the local affiliate", lambda held: LOCAL.node_id in held)

        await h.put(MACHINE_STATUS, "machine", MachineStatusSpec(stage="resetting"))
        await until_service(stub, "no local affiliate", lambda held: LOCAL.node_id not in held)
