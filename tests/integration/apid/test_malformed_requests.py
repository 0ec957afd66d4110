"""Malformed requests to every method apid serves, through a real apid in front of a real
machined: each is refused with a status that names the problem (INVALID_ARGUMENT
"malformed request: cannot decode <type>", RESOURCE_EXHAUSTED for a length beyond the
receive limit), never UNKNOWN, a Python class name or a traceback, and the node keeps
serving. The bodies: `tests.malformed`.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from talos.api.machine import machine_pb2 as m
from talos.apid.methods import MethodInfo, methods_from_descriptors
from talos.apid.server import ApidServer, ApidSettings
from tests.integration.apid import rawgrpc
from tests.integration.apid.harness import Pki, free_port
from tests.malformed import GIB4, bodies, leaks, message_class
from tests.processes import terminate

CONFIG = """version: v1alpha1
machine:
  type: controlplane
  network:
    hostname: malformed-test-node
cluster:
  clusterName: malformed-test
"""
HOST = "127.0.0.2"
CALL_TIMEOUT = 30.0
EMPTY_TIMEOUT = 3.0


@dataclass
class Node:
    proc: asyncio.subprocess.Process
    socket: Path
    port: int
    pki: Pki

    def channel(self, *roles: str) -> grpc.aio.Channel:
        client = self.pki.client(*roles)
        creds = grpc.ssl_channel_credentials(self.pki.ca_pem, client.key, client.crt)
        return grpc.aio.secure_channel(f"{HOST}:{self.port}", creds)

    def ssl_context(self, tmp: Path) -> ssl.SSLContext:
        client = self.pki.client("os:admin")
        (tmp / "client.crt").write_bytes(client.crt)
        (tmp / "client.key").write_bytes(client.key)
        ctx = ssl.create_default_context(cadata=self.pki.ca_pem.decode())
        ctx.load_cert_chain(tmp / "client.crt", tmp / "client.key")
        ctx.set_alpn_protocols(["h2"])
        ctx.check_hostname = False
        return ctx


@pytest.fixture
async def node(tmp_path: Path, pki: Pki) -> AsyncIterator[Node]:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG)
    root = tmp_path / "root"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "talos", "machined", "--root", str(root), "--config", str(cfg),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = root / "system/run/machined/machine.sock"
    apid: ApidServer | None = None
    try:
        async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
            await asyncio.wait_for(ch.channel_ready(), 60)
        port = free_port([HOST])
        cert = pki.node_cert(HOST)
        apid = ApidServer(ApidSettings(pki.ca_pem, cert.crt, cert.key, listen=f"{HOST}:{port}",
                                       backend_socket=str(sock), remote_port=port))
        await apid.start()
        yield Node(proc, sock, port, pki)
    finally:
        if apid is not None:
            await apid.stop(0)
        await terminate(proc)


# -- calls --------------------------------------------------------------------------------

async def _call(channel: grpc.aio.Channel, info: MethodInfo, body: bytes,
                deadline: float = CALL_TIMEOUT) -> tuple[grpc.StatusCode, str]:
    """Send `body` as the request (one message of a client stream); read at most one reply
    message, then cancel."""
    try:
        if info.client_streaming:
            async def one() -> AsyncIterator[bytes]:
                yield body
            if info.server_streaming:
                call = channel.stream_stream(info.path)(one(), timeout=deadline)
                async for _ in call:
                    call.cancel()
                    break
            else:
                await channel.stream_unary(info.path)(one(), timeout=deadline)
        elif info.server_streaming:
            stream = channel.unary_stream(info.path)(body, timeout=deadline)
            async for _ in stream:
                stream.cancel()
                break
        else:
            await channel.unary_unary(info.path)(body, timeout=deadline)
    except grpc.aio.AioRpcError as e:
        return e.code(), e.details() or ""
    return grpc.StatusCode.OK, ""


async def _still_serving(node: Node) -> None:
    assert node.proc.returncode is None, "machined exited"
    async with node.channel("os:reader") as ch:
        reply = await ch.unary_unary("/machine.MachineService/Version")(b"", timeout=30)
        assert reply, "Version answered nothing"
    async with grpc.aio.insecure_channel(f"unix:{node.socket}") as ch:
        assert await ch.unary_unary("/machine.MachineService/Hostname")(b"", timeout=30)


# -- tests --------------------------------------------------------------------------------

async def test_malformed_requests_to_every_method_are_invalid_argument_naming_the_type(
        node: Node) -> None:
    rng = random.Random(14)
    methods = list(methods_from_descriptors().values())
    assert len(methods) > 60
    calls = [(info, shape, body) for info in methods
             for shape, body in bodies(message_class(info.request_type), rng)]
    assert len(calls) > 500
    limit = asyncio.Semaphore(64)
    problems: list[str] = []
    async with node.channel("os:admin") as ch:
        async def one(info: MethodInfo, shape: str, body: bytes) -> None:
            async with limit:
                code, details = await _call(ch, info, body)
            what = f"{info.path} [{shape} {body[:24]!r}]"
            problems.extend(leaks(what, code.name, details))
            expected = f"malformed request: cannot decode {info.request_type}"
            if info.client_streaming and code not in (grpc.StatusCode.OK,
                                                      grpc.StatusCode.INVALID_ARGUMENT):
                return  # refused before reading its requests (EtcdRecover: no etcd here)
            if code != grpc.StatusCode.INVALID_ARGUMENT or not details.startswith(expected):
                problems.append(f"{what}: {code.name} {details!r} (expected "
                                f"INVALID_ARGUMENT {expected!r})")
        async with asyncio.TaskGroup() as tg:
            for info, shape, body in calls:
                tg.create_task(one(info, shape, body))
    assert not problems, f"{len(problems)} of {len(calls)} calls:\n" + "\n".join(problems[:40])
    await _still_serving(node)


async def test_empty_request_to_every_method_is_answered_without_internals(node: Node) -> None:
    # As a reader: methods readers may call run on machined with every field unset; the
    # others are refused by apid (no empty Reboot, Reset... runs here). A stream that has
    # nothing to say (Events with no tail) ends at the short deadline.
    problems: list[str] = []
    async with node.channel("os:reader") as ch:
        async def one(info: MethodInfo) -> None:
            code, details = await _call(ch, info, b"", deadline=EMPTY_TIMEOUT)
            problems.extend(leaks(info.path, code.name, details))
            if details.startswith("malformed request"):
                problems.append(f"{info.path}: an empty request is a valid message: {details!r}")
        async with asyncio.TaskGroup() as tg:
            for info in methods_from_descriptors().values():
                tg.create_task(one(info))
    assert not problems, "\n".join(problems)
    await _still_serving(node)


async def test_length_prefix_beyond_the_limit_is_resource_exhausted_without_reading_it(
        node: Node, tmp_path: Path) -> None:
    ctx = node.ssl_context(tmp_path)
    path = "/machine.MachineService/Version"
    huge = b"\x00" + GIB4.to_bytes(4, "big") + b"abc"  # claims 4 GiB, sends 3 bytes
    for reply in (await rawgrpc.call(HOST, node.port, path, huge, ssl_context=ctx),
                  await rawgrpc.call("localhost", 0, path, huge, unix=str(node.socket))):
        assert reply.status == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0], reply
        assert "larger than max" in reply.message, reply
        assert not leaks(path, "RESOURCE_EXHAUSTED", reply.message)
    # a message flagged compressed without an encoding: gRPC itself refuses it (INTERNAL
    # naming the problem). (A frame cut short by the end of the stream gets no answer from
    # grpcio's server at all until the caller's deadline or disconnect: not tested here.)
    reply = await rawgrpc.call(HOST, node.port, path, b"\x01\x00\x00\x00\x03abc",
                               ssl_context=ctx)
    assert reply.status == grpc.StatusCode.INTERNAL.value[0], reply
    assert "no encoding" in reply.message, reply
    await _still_serving(node)


async def test_a_large_valid_request_reaches_machined_through_apid(node: Node) -> None:
    # apid and machined share Talos's 32 MiB limit: an 8 MiB config (a big inline manifest)
    # is judged by the node, not refused by the hop behind apid as RESOURCE_EXHAUSTED.
    big = m.ApplyConfigurationRequest(data=b"version: v1alpha1\n#" + b"x" * (8 << 20),
                                      dry_run=True).SerializeToString()
    async with node.channel("os:admin") as ch:
        info = methods_from_descriptors()["/machine.MachineService/ApplyConfiguration"]
        code, details = await _call(ch, info, big)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, details[:200])
    assert "larger than max" not in details
    await _still_serving(node)
