"""The cluster, inspect, storage, time and securityapi services answer on the exact paths a
stock Talos client calls (``/<package>.<Service>/<Method>``, taken from the serialized
upstream service descriptors) with upstream's streaming shape, and our generated base
servicers answer a declared but unimplemented method with UNIMPLEMENTED."""

from __future__ import annotations

import base64
import importlib
from collections.abc import AsyncIterator

import grpc
import pytest
from filecheck import call_raw, served_channel
from google.protobuf import descriptor_pb2
from upstream_descriptors import SERVICES

# upstream package (or full service name) -> our generated grpc module (file paths keep
# upstream's names)
MODULES = {
    "cluster": "talos.api.cluster.cluster_pb2_grpc",
    "inspect": "talos.api.inspect.inspect_pb2_grpc",
    "storage": "talos.api.storage.storage_pb2_grpc",
    "time": "talos.api.time.time_pb2_grpc",
    "securityapi": "talos.api.security.security_pb2_grpc",
    # package machine: one module per service (MachineService: elsewhere)
    "machine.ImageService": "talos.api.machine.image_pb2_grpc",
    "machine.LifecycleService": "talos.api.machine.lifecycle_pb2_grpc",
    "machine.DebugService": "talos.api.machine.debug_pb2_grpc",
}


def _upstream(full_name: str) -> descriptor_pb2.ServiceDescriptorProto:
    return descriptor_pb2.ServiceDescriptorProto.FromString(
        base64.b64decode(SERVICES[full_name]))


def _add_servicers(server: grpc.aio.Server) -> None:
    for full_name in SERVICES:
        package, name = full_name.rsplit(".", 1)
        module = importlib.import_module(MODULES.get(full_name) or MODULES[package])
        getattr(module, f"add_{name}Servicer_to_server")(getattr(module, f"{name}Servicer")(),
                                                         server)


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    async with served_channel(_add_servicers) as ch:
        yield ch


def test_every_stored_upstream_service_has_a_module() -> None:
    assert {name if name in MODULES else name.rsplit(".", 1)[0]
            for name in SERVICES} == set(MODULES)


@pytest.mark.parametrize("full_name", sorted(SERVICES))
async def test_upstream_paths_and_shapes_are_served(channel: grpc.aio.Channel,
                                                    full_name: str) -> None:
    problems = []
    for method in _upstream(full_name).method:
        path = f"/{full_name}/{method.name}"
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call_raw(channel, path, method.client_streaming, method.server_streaming)
        if (e.value.code() != grpc.StatusCode.UNIMPLEMENTED
                or "Method not implemented!" not in (e.value.details() or "")):
            problems.append(f"{path}: {e.value.code()} {e.value.details()!r}")
    assert not problems, problems


async def test_unknown_path_is_distinguishable(channel: grpc.aio.Channel) -> None:
    # Control: a path nobody serves is UNIMPLEMENTED too, but without the servicer's text.
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call_raw(channel, "/storage.StorageService/NoSuchMethod", False, False)
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "Method not implemented!" not in (e.value.details() or "")
