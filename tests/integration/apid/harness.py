"""A real cluster of apids on loopback aliases, each in front of its own real grpc.aio
backend on a unix socket (standing in for machined's MachineService until machined lands:
it answers every declared method and records what it received)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2
from talos.api.v1alpha1 import resource_pb2, state_pb2
from talos.apid.methods import MethodInfo, lookup
from talos.apid.server import ApidServer, ApidSettings
from talos.machinery.pki import CertificateAndKey, CertificateAuthority, IssueOptions
from tests.leftovers import nothing_left_async

MACHINE_CONFIG_YAML = """version: v1alpha1
machine:
  type: controlplane
  token: abcdef.0123456789abcdef
  ca:
    crt: Q0VSVA==
    key: S0VZ
cluster:
  secret: c2VjcmV0
  clusterName: demo
"""
LOG_CHUNK = b"x" * 1024


class Backend(grpc.GenericRpcHandler):
    """Answers every method; records the metadata of each call."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: dict[str, dict[str, list[str | bytes]]] = {}
        self.cancelled: list[str] = []
        self._changed = asyncio.Event()
        self.chunk = LOG_CHUNK

    def _cancel(self, method: str) -> None:
        self.cancelled.append(method)
        self._changed.set()

    async def wait_cancelled(self, method: str) -> None:
        while method not in self.cancelled:
            self._changed.clear()
            await self._changed.wait()

    def _record(self, method: str, context: grpc.aio.ServicerContext) -> None:
        md: dict[str, list[str | bytes]] = {}
        for k, v in context.invocation_metadata() or ():
            md.setdefault(k, []).append(v)
        self.seen[method] = md

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method = details.method
        info = lookup(method) or MethodInfo(method, True, True, False)
        if not info.client_streaming and not info.server_streaming:
            async def unary(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
                self._record(method, context)
                return await self.unary(method, request, context)
            return grpc.unary_unary_rpc_method_handler(unary)
        if not info.client_streaming:
            async def stream(request: bytes, context: grpc.aio.ServicerContext
                             ) -> AsyncIterator[bytes]:
                self._record(method, context)
                try:
                    async for m in self.stream(method, request, context):
                        yield m
                except asyncio.CancelledError:
                    self._cancel(method)
                    raise
            return grpc.unary_stream_rpc_method_handler(stream)

        async def consume(requests: AsyncIterator[bytes], context: Any) -> bytes:
            self._record(method, context)
            async for _ in requests:
                pass
            return b""
        return grpc.stream_unary_rpc_method_handler(consume)

    async def unary(self, method: str, request: bytes, context: Any) -> bytes:
        if method == "/machine.MachineService/Version":
            return machine_pb2.VersionResponse(messages=[machine_pb2.Version(
                version=machine_pb2.VersionInfo(tag="v1.10.0", sha=self.name, os="linux",
                                                arch="amd64"))]).SerializeToString()
        if method == "/machine.MachineService/Hostname":
            return machine_pb2.HostnameResponse(messages=[machine_pb2.Hostname(
                hostname=self.name)]).SerializeToString()
        if method == "/machine.MachineService/Memory":
            md = dict(context.invocation_metadata() or ())
            if "x-sleep" in md and md.get("x-sleep-on", self.name) == self.name:
                try:
                    await asyncio.sleep(float(md["x-sleep"]))
                except asyncio.CancelledError:
                    self._cancel(method)
                    raise
            return b""
        if method == "/cosi.resource.State/Get":
            req = state_pb2.GetRequest.FromString(request)
            return state_pb2.GetResponse(resource=resource_pb2.Resource(
                metadata=resource_pb2.Metadata(namespace=req.namespace, type=req.type,
                                               id=req.id, version="1"),
                spec=resource_pb2.Spec(yaml_spec=MACHINE_CONFIG_YAML))).SerializeToString()
        return b""

    async def stream(self, method: str, request: bytes, context: Any) -> AsyncIterator[bytes]:
        if method == "/machine.MachineService/Logs":
            req = machine_pb2.LogsRequest.FromString(request)
            for _ in range(req.tail_lines):
                yield common_pb2.Data(bytes=self.chunk).SerializeToString()
            if req.follow:
                await asyncio.Event().wait()  # until cancelled
            return
        if method == "/machine.MachineService/Events":
            yield machine_pb2.Event(id=self.name).SerializeToString()
            await asyncio.Event().wait()
        yield b""


@dataclass
class Node:
    name: str                   # the IP other nodes and clients route to
    backend: Backend
    backend_server: grpc.aio.Server
    apid: ApidServer | None = None


@dataclass
class Pki:
    ca: CertificateAuthority
    ca_pem: bytes
    clients: dict[str, CertificateAndKey] = field(default_factory=dict)

    def client(self, *roles: str, ttl: dt.timedelta = dt.timedelta(hours=1),
               now: dt.datetime | None = None) -> CertificateAndKey:
        key = ",".join(roles) + (f"@{now.isoformat()}" if now else "") + f"/{ttl}"
        if key not in self.clients:
            self.clients[key] = self.ca.issue_key_pair(
                IssueOptions(common_name="client", organizations=tuple(roles), ttl=ttl),
                now=now)
        return self.clients[key]

    def node_cert(self, ip: str) -> CertificateAndKey:
        return self.ca.issue_key_pair(IssueOptions(
            common_name=ip, organizations=("os:impersonator",),
            ip_addresses=(ipaddress.ip_address(ip),), server=True, client=True))


def new_pki() -> Pki:
    ca = CertificateAuthority.generate(organization="talos")
    return Pki(ca, ca.to_pem().crt)


def free_port(hosts: list[str]) -> int:
    """A TCP port free on every host (checked by binding)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((hosts[0], 0))
            port = s.getsockname()[1]
        ok = True
        for h in hosts:
            with socket.socket() as s:
                try:
                    s.bind((h, port))
                except OSError:
                    ok = False
                    break
        if ok:
            return int(port)
    raise RuntimeError("no common free port")


class Cluster:
    """N apids (127.0.0.2, .3, ...) on one port, each with its own backend."""

    def __init__(self, pki: Pki, tmp: Path, hosts: list[str]) -> None:
        self.pki = pki
        self.tmp = tmp
        self.hosts = hosts
        self.port = 0
        self.nodes: dict[str, Node] = {}
        self.channels: list[grpc.aio.Channel] = []

    async def start(self, *, apids: list[str] | None = None) -> None:
        self.port = free_port(self.hosts)
        for host in self.hosts:
            backend = Backend(host)
            server = grpc.aio.server()
            server.add_generic_rpc_handlers([backend])
            server.add_insecure_port(f"unix:{self.socket_path(host)}")
            await server.start()
            node = Node(host, backend, server)
            self.nodes[host] = node
            if apids is None or host in apids:
                await self.start_apid(host)

    async def start_apid(self, host: str) -> None:
        cert = self.pki.node_cert(host)
        settings = ApidSettings(self.pki.ca_pem, cert.crt, cert.key,
                                listen=f"{host}:{self.port}",
                                backend_socket=self.socket_path(host),
                                remote_port=self.port)
        apid = ApidServer(settings)
        await apid.start()
        self.nodes[host].apid = apid

    def socket_path(self, host: str) -> str:
        return str(self.tmp / f"machined-{self.hosts.index(host)}.sock")

    def channel(self, *roles: str, host: str | None = None,
                client: CertificateAndKey | None = None,
                ca_pem: bytes | None = None) -> grpc.aio.Channel:
        client = client or self.pki.client(*roles)
        creds = grpc.ssl_channel_credentials(root_certificates=ca_pem or self.pki.ca_pem,
                                             private_key=client.key,
                                             certificate_chain=client.crt)
        ch = grpc.aio.secure_channel(f"{host or self.hosts[0]}:{self.port}", creds)
        self.channels.append(ch)
        return ch

    async def stop(self) -> None:
        for ch in self.channels:
            await ch.close()
        for node in self.nodes.values():
            if node.apid is not None:
                await node.apid.stop(0)
            await node.backend_server.stop(0)


@contextlib.asynccontextmanager
async def cluster(hosts: list[str], *, pki: Pki | None = None,
                  apids: list[str] | None = None) -> AsyncIterator[Cluster]:
    with tempfile.TemporaryDirectory(prefix="apid-test-") as tmp:
        async with nothing_left_async(tmp, what="apid test cluster"):
            c = Cluster(pki or new_pki(), Path(tmp), hosts)
            try:
                await c.start(apids=apids)
                yield c
            finally:
                await c.stop()
