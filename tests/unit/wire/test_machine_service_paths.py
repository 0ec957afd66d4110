"""Every MachineService method answers on the exact path a stock Talos client uses
(``/machine.MachineService/<Method>``) with the upstream streaming shape, and a declared but
unimplemented method answers UNIMPLEMENTED ("not implemented", not "not found")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from filecheck import call_raw, served_channel
from upstream_machine import MACHINE

import talos.api.machine.machine_pb2_grpc as machine_pb2_grpc

SERVICE = "machine.MachineService"


def _add_servicers(server: grpc.aio.Server) -> None:
    machine_pb2_grpc.add_MachineServiceServicer_to_server(
        machine_pb2_grpc.MachineServiceServicer(), server)


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    async with served_channel(_add_servicers) as ch:
        yield ch


async def test_every_method_path_and_shape_is_served(channel: grpc.aio.Channel) -> None:
    problems = []
    for name, (_, _, client_stream, server_stream) in sorted(MACHINE.services[SERVICE].items()):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call_raw(channel, f"/{SERVICE}/{name}", client_stream, server_stream)
        # The generated base servicer raises NotImplementedError after setting the code.
        if (e.value.code() != grpc.StatusCode.UNIMPLEMENTED
                or "Method not implemented!" not in (e.value.details() or "")):
            problems.append(f"{name}: {e.value.code()} {e.value.details()!r}")
    assert not problems, problems


async def test_unknown_method_is_distinguishable(channel: grpc.aio.Channel) -> None:
    # The control for the test above: a path we do not serve says "not found".
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call_raw(channel, f"/{SERVICE}/NoSuchMethod", False, False)
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "Method not implemented!" not in (e.value.details() or "")
