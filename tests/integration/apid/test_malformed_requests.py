"""Malformed requests to every method apid serves, through a real apid in front of a real
machined: each is refused with a status that names the problem (INVALID_ARGUMENT
"malformed request: cannot decode <type>", RESOURCE_EXHAUSTED for a length beyond the
receive limit), never UNKNOWN, a Python class name or a traceback, and the node keeps
serving.

A known field sent with another *valid* wire type is not malformed: protobuf (Go's too)
keeps it as an unknown field and the request decodes as if the field were unset. So the
wire-type shapes here use wire types no field can have (6, 7) or an unterminated group.
"""

from __future__ import annotations

import asyncio
import random
import signal
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf import symbol_database
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from talos.apid.methods import MethodInfo, known_methods
from talos.apid.server import ApidServer, ApidSettings
from tests.integration.apid import rawgrpc
from tests.integration.apid.harness import Pki, free_port

CONFIG = """version: v1alpha1
machine:
  type: controlplane
  network:
    hostname: malformed-test-node
cluster:
  clusterName: malformed-test
"""
HOST = "127.0.0.2"
#: what must never reach a caller
LEAKS = ("<class", "Traceback", "DecodeError", "Exception", "Error:")
GIB4 = 0xFFFFFFFF
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
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


# -- malformed bodies ---------------------------------------------------------------------

def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _message_class(full_name: str) -> type[Message]:
    cls: type[Message] = symbol_database.Default().GetSymbol(full_name)
    return cls


def _filled(cls: type[Message]) -> bytes:
    """A valid, non-empty encoding of `cls`: its first string, bytes or message field set,
    or (no such field) an unknown length-delimited field 15."""
    for f in cls.DESCRIPTOR.fields:
        if f.is_repeated:
            continue
        if f.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES,
                      FieldDescriptor.TYPE_MESSAGE):
            inner = b"hello, node" if f.type != FieldDescriptor.TYPE_MESSAGE else b""
            return _varint(f.number << 3 | 2) + _varint(len(inner)) + inner + \
                _varint(15 << 3 | 2) + b"\x05extra"
    return _varint(15 << 3 | 2) + b"\x0bhello, node"


def malformed_bodies(info: MethodInfo, rng: random.Random) -> list[tuple[str, bytes]]:
    """(shape, bytes) that do not decode as the method's request type (checked here)."""
    cls = _message_class(info.request_type)
    numbers = [f.number for f in cls.DESCRIPTOR.fields] or [1]
    valid = _filled(cls)
    shapes: list[tuple[str, bytes]] = [
        ("truncated", valid[:-1]),
        ("truncated-length", valid[:2]),
        ("truncated-varint", b"\x08\x80"),
        ("overlong-varint", b"\x08" + b"\xff" * 11),
        ("huge-length", _varint(numbers[0] << 3 | 2) + _varint(GIB4) + b"abc"),
        ("huge-length-64bit", _varint(numbers[-1] << 3 | 2) + _varint((1 << 63) - 1) + b"x"),
        ("field-number-0", b"\x02\x01x"),
        ("unterminated-group", _varint(numbers[0] << 3 | 3) + b"\x08\x01"),
        ("stray-end-group", _varint(numbers[-1] << 3 | 4)),
    ]
    shapes += [(f"wire-type-{wt}-field-{n}", _varint(n << 3 | wt) + b"\x01")
               for wt in (6, 7) for n in numbers[:2]]
    while sum(1 for s, _ in shapes if s == "random") < 3:
        shapes.append(("random", rng.randbytes(rng.randint(1, 64))))
    out = []
    for shape, body in shapes:
        try:
            cls.FromString(body)
        except DecodeError:
            out.append((shape, body))
        # bytes that happen to decode would run the method: never sent
    return out


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


def _problems(what: str, code: grpc.StatusCode, details: str) -> list[str]:
    bad = []
    if code == grpc.StatusCode.UNKNOWN:
        bad.append(f"{what}: UNKNOWN {details!r}")
    if any(leak in details for leak in LEAKS):
        bad.append(f"{what}: details leak internals: {details!r}")
    return bad


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
    methods = list(known_methods().values())
    assert len(methods) > 60
    calls = [(info, shape, body) for info in methods
             for shape, body in malformed_bodies(info, rng)]
    assert len(calls) > 500
    limit = asyncio.Semaphore(64)
    problems: list[str] = []
    async with node.channel("os:admin") as ch:
        async def one(info: MethodInfo, shape: str, body: bytes) -> None:
            async with limit:
                code, details = await _call(ch, info, body)
            what = f"{info.path} [{shape} {body[:24]!r}]"
            problems.extend(_problems(what, code, details))
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
            problems.extend(_problems(info.path, code, details))
            if details.startswith("malformed request"):
                problems.append(f"{info.path}: an empty request is a valid message: {details!r}")
        async with asyncio.TaskGroup() as tg:
            for info in known_methods().values():
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
        assert not _problems(path, grpc.StatusCode.RESOURCE_EXHAUSTED, reply.message)
    # a message flagged compressed without an encoding: gRPC itself refuses it (INTERNAL
    # naming the problem). (A frame cut short by the end of the stream gets no answer from
    # grpcio's server at all until the caller's deadline or disconnect: not tested here.)
    reply = await rawgrpc.call(HOST, node.port, path, b"\x01\x00\x00\x00\x03abc",
                               ssl_context=ctx)
    assert reply.status == grpc.StatusCode.INTERNAL.value[0], reply
    assert "no encoding" in reply.message, reply
    await _still_serving(node)
