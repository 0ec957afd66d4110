"""A sandbox node for tests: machined as PID 1 in its own namespaces, driven over its socket."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2 as m
from talos.api.machine import machine_pb2_grpc
from talos.machinery.pki import CertificateAuthority
from talos.provision.sandbox import SandboxNode, launch
from tests.leftovers import nothing_left_async

_CA = CertificateAuthority.generate(organization="talos").to_pem()
CONFIG = b"""version: v1alpha1
machine:
  type: controlplane
  ca:
    crt: """ + base64.b64encode(_CA.crt) + b"""
    key: """ + base64.b64encode(_CA.key) + b"""
  features:
    hostDNS:
      enabled: true
      forwardKubeDNSToHost: true
  network:
    hostname: %s
cluster:
  clusterName: test
"""


@dataclass
class Node:
    sandbox: SandboxNode
    channel: grpc.aio.Channel
    api: machine_pb2_grpc.MachineServiceStub
    config: bytes

    async def services(self) -> dict[str, m.ServiceInfo]:
        resp = await self.api.ServiceList(empty_pb2.Empty())
        return {s.id: s for s in resp.messages[0].services}

    async def wait_event(self, pred: Callable[[Any], bool], *, msg_type: Any) -> Any:
        """The first event (past or future) of `msg_type` that satisfies `pred`."""
        call = self.api.Events(m.EventsRequest(tail_events=-1))
        try:
            async for ev in call:
                if not ev.data.type_url.endswith(msg_type.DESCRIPTOR.full_name):
                    continue
                msg = msg_type()
                msg.ParseFromString(ev.data.value)
                if pred(msg):
                    return msg
        finally:
            call.cancel()
        raise AssertionError("event stream ended")

    async def wait_service(self, sid: str, state: str) -> Any:
        action = m.ServiceStateEvent.Action.Value(state.upper())
        return await self.wait_event(lambda e: e.service == sid and e.action == action,
                                     msg_type=m.ServiceStateEvent)

    async def wait_boot(self) -> None:
        await self.wait_event(lambda e: e.sequence == "boot"
                              and e.action == m.SequenceEvent.STOP,
                              msg_type=m.SequenceEvent)

    async def reconnect(self) -> None:
        await self.channel.close()
        await asyncio.to_thread(self.sandbox.wait_socket)
        self.channel = grpc.aio.insecure_channel(f"unix:{self.sandbox.socket}")
        self.api = machine_pb2_grpc.MachineServiceStub(self.channel)


@asynccontextmanager
async def running_node(directory: Path, *, hostname: str = "node-1",
                       extensions: dict[str, str] | None = None) -> AsyncIterator[Node]:
    config = CONFIG % hostname.encode()
    async with nothing_left_async(directory, what=f"sandbox node {hostname}"):
        sandbox = await asyncio.to_thread(launch, directory, config=config,
                                          extensions=extensions)
        try:
            await asyncio.to_thread(sandbox.wait_socket)
            channel = grpc.aio.insecure_channel(f"unix:{sandbox.socket}")
            node = Node(sandbox, channel, machine_pb2_grpc.MachineServiceStub(channel),
                        config)
            try:
                yield node
            finally:
                await node.channel.close()
        finally:
            await asyncio.to_thread(sandbox.destroy)


def ext(name: str, code: str, *, restart: str = "always", backoff: float = 5,
        depends: tuple[str, ...] = ()) -> dict[str, str]:
    """An extension service definition running inline Python."""
    import json
    import sys
    deps = "".join(f"\n  - service: {d}" for d in depends)
    text = (f"name: {name}\ncontainer:\n  entrypoint: {sys.executable}\n"
            f"  args: {json.dumps(['-u', '-c', code])}\n"
            f"restart: {restart}\nbackoff: {backoff}\n"
            + (f"depends:{deps}\n" if deps else ""))
    return {name: text}
