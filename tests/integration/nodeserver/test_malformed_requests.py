"""Every gRPC server of the project refuses requests that do not decode with
INVALID_ARGUMENT naming the request type (never UNKNOWN with a Python class name), and keeps
serving: trustd, the discovery service and maintenance mode here (apid and machined's unix
socket: tests/integration/apid/test_malformed_requests.py). The bodies: `tests.malformed`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import socket
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from google.protobuf.descriptor import ServiceDescriptor

from talos.api.discovery.server import cluster_pb2 as discovery_pb2
from talos.api.machine import machine_pb2, machine_pb2_grpc
from talos.api.security import security_pb2, security_pb2_grpc
from talos.api.storage import storage_pb2
from talos.api.v1alpha1 import state_pb2
from talos.discovery.server import serve
from talos.machinery.pki import CertificateAuthority, IssueOptions, generate_token
from talos.trustd.server import TrustdServer, TrustdSettings
from tests.integration.apply.harness import insecure, machined
from tests.malformed import bodies, leaks, message_class

DEADLINE = 30.0


async def _send(channel: grpc.aio.Channel, path: str, body: bytes, *, client_streaming: bool,
                server_streaming: bool) -> tuple[grpc.StatusCode, str]:
    try:
        if client_streaming:
            async def one() -> AsyncIterator[bytes]:
                yield body
            if server_streaming:
                async for _ in channel.stream_stream(path)(one(), timeout=DEADLINE):
                    break
            else:
                await channel.stream_unary(path)(one(), timeout=DEADLINE)
        elif server_streaming:
            call = channel.unary_stream(path)(body, timeout=DEADLINE)
            async for _ in call:
                call.cancel()
                break
        else:
            await channel.unary_unary(path)(body, timeout=DEADLINE)
    except grpc.aio.AioRpcError as e:
        return e.code(), e.details() or ""
    return grpc.StatusCode.OK, ""


async def refuses_malformed(channel: grpc.aio.Channel, services: Iterable[ServiceDescriptor],
                            *, seed: int) -> int:
    """Send every malformed shape to every method; assert each is INVALID_ARGUMENT naming
    the request type. Returns how many calls were made."""
    rng = random.Random(seed)
    problems: list[str] = []
    calls = 0
    for svc in services:
        for m in svc.methods:
            path = f"/{svc.full_name}/{m.name}"
            name = m.input_type.full_name
            for shape, body in bodies(message_class(name), rng):
                calls += 1
                code, details = await _send(channel, path, body,
                                            client_streaming=m.client_streaming,
                                            server_streaming=m.server_streaming)
                what = f"{path} [{shape} {body[:24]!r}]"
                problems += leaks(what, code.name, details)
                expected = f"malformed request: cannot decode {name}"
                if m.client_streaming and code not in (grpc.StatusCode.OK,
                                                       grpc.StatusCode.INVALID_ARGUMENT):
                    continue  # refused before its requests are read (EtcdRecover)
                if code != grpc.StatusCode.INVALID_ARGUMENT or not details.startswith(expected):
                    problems.append(f"{what}: {code.name} {details!r}")
    assert not problems, f"{len(problems)} of {calls} calls:\n" + "\n".join(problems[:30])
    return calls


async def test_trustd_refuses_malformed_certificate_requests_and_keeps_signing() -> None:
    ca = CertificateAuthority.generate(organization="talos")
    serving = ca.issue_key_pair(IssueOptions(
        ip_addresses=(ipaddress.ip_address("127.0.0.3"),), server=True, client=False))
    server = TrustdServer(TrustdSettings(ca, serving, generate_token(), listen="127.0.0.3:0"))
    port = await server.start()
    try:
        creds = grpc.ssl_channel_credentials(root_certificates=ca.to_pem().crt)
        async with grpc.aio.secure_channel(f"127.0.0.3:{port}", creds) as ch:
            services = security_pb2.DESCRIPTOR.services_by_name.values()
            assert await refuses_malformed(ch, services, seed=1) > 10
            # still serving: a well-formed request reaches the handler (token check)
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await security_pb2_grpc.SecurityServiceStub(ch).Certificate(
                    security_pb2.CertificateRequest(csr=b"x"), timeout=DEADLINE)
            assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        await server.stop(0)


async def test_discovery_service_refuses_malformed_requests_and_keeps_serving() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        listen = f"127.0.0.1:{s.getsockname()[1]}"
    ready = asyncio.Event()
    task = asyncio.ensure_future(serve(listen, ready))
    try:
        await asyncio.wait_for(ready.wait(), 60)
        async with grpc.aio.insecure_channel(listen) as ch:
            services = discovery_pb2.DESCRIPTOR.services_by_name.values()
            assert await refuses_malformed(ch, services, seed=2) > 50
            hello = discovery_pb2.HelloRequest(cluster_id="c", client_version="v1")
            reply = await ch.unary_unary("/sidero.discovery.server.Cluster/Hello")(
                hello.SerializeToString(), timeout=DEADLINE)
            assert discovery_pb2.HelloResponse.FromString(reply).client_ip
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_maintenance_mode_refuses_malformed_requests_and_keeps_serving(
        tmp_path: Path) -> None:
    async with machined(tmp_path, maintenance=True) as n:
        await n.wait_stage("maintenance")
        assert n.maintenance_port is not None
        async with insecure(n.maintenance_port) as ch:
            services = [f.services_by_name[s] for f, s in (
                (machine_pb2.DESCRIPTOR, "MachineService"),
                (storage_pb2.DESCRIPTOR, "StorageService"),
                (state_pb2.DESCRIPTOR, "State"))]
            # allowed methods and refused ones alike: the bytes are checked first
            assert await refuses_malformed(ch, services, seed=3) > 500
            version = await machine_pb2_grpc.MachineServiceStub(ch).Version(
                empty_pb2.Empty(), timeout=DEADLINE)
            assert version.messages[0].version.tag
        assert n.proc is not None and n.proc.poll() is None, "machined exited"
