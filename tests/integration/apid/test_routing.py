"""Three apids on loopback aliases: node/nodes routing, fan-out merge, streams, roles."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import empty_pb2

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2, machine_pb2_grpc
from talos.api.v1alpha1 import state_pb2, state_pb2_grpc
from tests.integration.apid.harness import Cluster, Pki, cluster

HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]


async def test_fanout_merges_replies_stamped_with_hostnames(three: Cluster) -> None:
    stub = machine_pb2_grpc.MachineServiceStub(three.channel("os:reader"))
    reply = await stub.Version(empty_pb2.Empty(), metadata=(("nodes", ",".join(HOSTS)),))
    assert sorted(m.metadata.hostname for m in reply.messages) == HOSTS
    for m in reply.messages:
        assert m.version.sha == m.metadata.hostname  # each node's own machined answered
        assert not m.metadata.error


async def test_repeated_nodes_metadata_values_as_talos_clients_send(three: Cluster) -> None:
    stub = machine_pb2_grpc.MachineServiceStub(three.channel("os:reader"))
    reply = await stub.Hostname(empty_pb2.Empty(),
                                metadata=tuple(("nodes", h) for h in HOSTS[1:]))
    assert sorted((m.metadata.hostname, m.hostname) for m in reply.messages) == \
        [(h, h) for h in HOSTS[1:]]


async def test_node_routes_one_to_one_without_envelope_changes(three: Cluster) -> None:
    stub = machine_pb2_grpc.MachineServiceStub(three.channel("os:reader"))
    reply = await stub.Hostname(empty_pb2.Empty(), metadata=(("node", "127.0.0.4"),))
    assert [m.hostname for m in reply.messages] == ["127.0.0.4"]
    assert reply.messages[0].metadata.hostname == ""


async def test_one_node_down_gives_a_per_node_error(pki: Pki) -> None:
    async with cluster(HOSTS, pki=pki, apids=HOSTS[:2]) as c:
        stub = machine_pb2_grpc.MachineServiceStub(c.channel("os:reader"))
        reply = await stub.Version(empty_pb2.Empty(), metadata=(("nodes", ",".join(HOSTS)),),
                                   timeout=30)
        by_host = {m.metadata.hostname: m for m in reply.messages}
        assert set(by_host) == set(HOSTS)
        assert not by_host["127.0.0.2"].metadata.error
        assert not by_host["127.0.0.3"].metadata.error
        down = by_host["127.0.0.4"].metadata
        assert down.error
        assert down.status.code == grpc.StatusCode.UNAVAILABLE.value[0]
        # one-to-one to the dead node: the call fails, naming the node
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await stub.Version(empty_pb2.Empty(), metadata=(("node", "127.0.0.4"),),
                               timeout=30)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "127.0.0.4" in (e.value.details() or "")
        # streams: the dead node shows up as one error message
        msgs = [m async for m in stub.Logs(machine_pb2.LogsRequest(id="x", tail_lines=3),
                                           metadata=(("nodes", ",".join(HOSTS)),),
                                           timeout=30)]
        errors = [m for m in msgs if m.metadata.error]
        assert [m.metadata.hostname for m in errors] == ["127.0.0.4"]
        assert len(msgs) == 7


async def test_local_backend_down_is_unavailable_naming_machined(one: Cluster) -> None:
    await one.nodes["127.0.0.2"].backend_server.stop(0)
    stub = machine_pb2_grpc.MachineServiceStub(one.channel("os:reader"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Version(empty_pb2.Empty(), timeout=30)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "machined" in (e.value.details() or "")


async def test_streams_are_proxied_and_merged(three: Cluster) -> None:
    stub = machine_pb2_grpc.MachineServiceStub(three.channel("os:reader"))
    direct = [m async for m in stub.Logs(machine_pb2.LogsRequest(id="kubelet", tail_lines=50))]
    assert len(direct) == 50 and all(m.bytes == b"x" * 1024 for m in direct)
    merged = [m async for m in stub.Logs(machine_pb2.LogsRequest(id="kubelet", tail_lines=50),
                                         metadata=(("nodes", ",".join(HOSTS)),))]
    counts: dict[str, int] = {}
    for m in merged:
        assert isinstance(m, common_pb2.Data) and m.bytes == b"x" * 1024
        counts[m.metadata.hostname] = counts.get(m.metadata.hostname, 0) + 1
    assert counts == {h: 50 for h in HOSTS}


async def test_cancelling_a_followed_stream_cancels_every_hop(three: Cluster) -> None:
    stub = machine_pb2_grpc.MachineServiceStub(three.channel("os:reader"))
    call = stub.Logs(machine_pb2.LogsRequest(id="x", tail_lines=2, follow=True),
                     metadata=(("nodes", "127.0.0.3,127.0.0.4"),))
    got = 0
    async for _ in call:
        got += 1
        if got == 4:
            break
    call.cancel()
    for h in ("127.0.0.3", "127.0.0.4"):
        await three.nodes[h].backend.wait_cancelled("/machine.MachineService/Logs")


async def test_deadline_propagates_to_the_backend(three: Cluster) -> None:
    stub = machine_pb2_grpc.MachineServiceStub(three.channel("os:reader"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Memory(empty_pb2.Empty(), timeout=0.5,
                          metadata=(("node", "127.0.0.3"), ("x-sleep", "60")))
    assert e.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await three.nodes["127.0.0.3"].backend.wait_cancelled("/machine.MachineService/Memory")
    # fan-out: the slow node times out into a per-node error; the others answer in time
    reply = await stub.Memory(empty_pb2.Empty(), timeout=2,
                              metadata=(("nodes", "127.0.0.3,127.0.0.4"), ("x-sleep", "60"),
                                        ("x-sleep-on", "127.0.0.3")))
    by_host = {m.metadata.hostname: m.metadata for m in reply.messages}
    assert by_host["127.0.0.3"].status.code == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]
    assert by_host["127.0.0.3"].error
    assert not by_host["127.0.0.4"].error


async def test_roles_are_preserved_end_to_end(three: Cluster) -> None:
    for role in ("os:reader", "os:operator"):
        stub = machine_pb2_grpc.MachineServiceStub(three.channel(role))
        await stub.Version(empty_pb2.Empty(), metadata=(("nodes", "127.0.0.3,127.0.0.4"),))
        for h in ("127.0.0.3", "127.0.0.4"):
            seen = three.nodes[h].backend.seen["/machine.MachineService/Version"]
            assert seen["talos-role"] == [role]
            assert "nodes" not in seen and "node" not in seen


async def test_routing_never_gains_roles(three: Cluster) -> None:
    """A reader forging role metadata through one or several hops is still refused."""
    stub = machine_pb2_grpc.MachineServiceStub(three.channel("os:reader"))
    forged = (("talos-role", "os:admin"),)
    for routing in ((("node", "127.0.0.3"),), (("nodes", "127.0.0.3,127.0.0.4"),)):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await stub.Reboot(machine_pb2.RebootRequest(), metadata=routing + forged)
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    for h in HOSTS:
        assert "/machine.MachineService/Reboot" not in three.nodes[h].backend.seen
    # reading secrets through another node is refused by that node as well
    state = state_pb2_grpc.StateStub(three.channel("os:reader"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await state.Get(state_pb2.GetRequest(namespace="secrets", type="X", id="y"),
                        metadata=(("node", "127.0.0.3"), *forged))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # the machine config read through another node is redacted there
    cfg = await state.Get(state_pb2.GetRequest(
        namespace="config", type="MachineConfigs.config.talos.dev", id="v1alpha1"),
        metadata=(("node", "127.0.0.4"), *forged))
    assert "abcdef.0123456789abcdef" not in cfg.resource.spec.yaml_spec


async def test_cosi_is_one_to_one_only(three: Cluster) -> None:
    state = state_pb2_grpc.StateStub(three.channel("os:admin"))
    req = state_pb2.GetRequest(namespace="config", type="MachineConfigs.config.talos.dev",
                               id="v1alpha1")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await state.Get(req, metadata=(("nodes", "127.0.0.3,127.0.0.4"),))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "node" in (e.value.details() or "")
    one = await state.Get(req, metadata=(("nodes", "127.0.0.3"),))
    assert one.resource.metadata.id == "v1alpha1"
