"""A node naming the apid itself goes straight to its machined (no TLS hop to itself),
with the caller's roles, the same stamping, and the same errors."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2_grpc
from talos.api.v1alpha1 import state_pb2, state_pb2_grpc
from talos.apid.route import split_host_port
from tests.integration.apid.harness import Pki, cluster

HOSTS = ["127.0.0.2", "127.0.0.3"]


@pytest.mark.parametrize(("node", "expected"), [
    ("10.5.0.2", ("10.5.0.2", None)), ("10.5.0.2:50000", ("10.5.0.2", 50000)),
    ("[fd00::1]:4", ("fd00::1", 4)), ("fd00::1", ("fd00::1", None)),
    ("[fd00::1]", ("fd00::1", None)), ("node-1", ("node-1", None))])
def test_split_host_port(node: str, expected: tuple[str, int | None]) -> None:
    assert split_host_port(node) == expected


async def test_own_address_is_served_locally_with_roles_and_stamping(pki: Pki) -> None:
    async with cluster(HOSTS, pki=pki) as c:
        entry = c.nodes[HOSTS[0]]
        assert entry.apid is not None
        backends = entry.apid.backends
        stub = machine_pb2_grpc.MachineServiceStub(c.channel("os:reader"))
        me = (HOSTS[0], f"{HOSTS[0]}:{c.port}")
        for node in me:
            assert backends.is_local(node)
        assert not backends.is_local(f"{HOSTS[0]}:{c.port + 1}")
        assert not backends.is_local(HOSTS[1])

        reply = await stub.Version(empty_pb2.Empty(), metadata=(("nodes", ",".join(HOSTS)),))
        assert sorted((m.metadata.hostname, m.version.sha) for m in reply.messages) == \
            [(h, h) for h in HOSTS]
        reply = await stub.Hostname(empty_pb2.Empty(), metadata=(("node", HOSTS[0]),))
        assert [m.hostname for m in reply.messages] == [HOSTS[0]]
        # only the other node needed a channel; the caller's roles reached our machined
        assert list(backends._remote) == [HOSTS[1]]
        seen = entry.backend.seen["/machine.MachineService/Hostname"]
        assert seen["talos-role"] == ["os:reader"]

        # redaction/denial of COSI reads still applies on the shortcut
        cosi = state_pb2_grpc.StateStub(c.channel("os:reader"))
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await cosi.Get(state_pb2.GetRequest(namespace="secrets", type="X", id="y"),
                           metadata=(("node", HOSTS[0]),))
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_own_machined_down_reads_like_a_remote_one(pki: Pki) -> None:
    async with cluster(HOSTS, pki=pki) as c:
        for node in c.nodes.values():
            await node.backend_server.stop(0)
        stub = machine_pb2_grpc.MachineServiceStub(c.channel("os:reader"))
        reply = await stub.Version(empty_pb2.Empty(), metadata=(("nodes", ",".join(HOSTS)),))
        errors = {m.metadata.hostname: m.metadata.error for m in reply.messages}
        assert set(errors) == set(HOSTS)
        for host, error in errors.items():
            assert error.startswith("machined (unix:"), (host, error)
            assert "is unavailable" in error
