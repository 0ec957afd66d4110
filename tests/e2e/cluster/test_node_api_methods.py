"""The rest of the node API through apid on a sandbox control plane: META keys written to
STATE with `talosctl meta`, CPU frequency answered (empty where the kernel has no cpufreq),
etcd downgrades refused with the reason, and every MachineService method answering
something other than UNIMPLEMENTED except a named list."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2, machine_pb2_grpc
from talos.machinery.client.connection import ConnectionOptions, connect, node_metadata
from talos.machinery.client.talosconfig import Talosconfig
from tests.e2e.cluster.conftest import Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.root]

MakeCluster = Callable[[str], Cluster]

#: still UNIMPLEMENTED here (upstream v1.13.9 has them all)
NOT_YET: set[str] = set()
#: implemented, but an empty request would reboot, stop or wipe the node: not called
#: (Rollback reboots a node started from an image)
DESTRUCTIVE = {"Reboot", "Shutdown", "Reset", "EtcdLeaveCluster", "EtcdForfeitLeadership",
               "EtcdRecover", "Rollback"}


async def _codes(c: Cluster, node: str) -> dict[str, grpc.StatusCode]:
    """Every MachineService method called through apid with an empty request."""
    ctx = Talosconfig.load(c.talosconfig).get()
    conn = await connect(ConnectionOptions.from_context(ctx))
    out: dict[str, grpc.StatusCode] = {}
    try:
        service = machine_pb2.DESCRIPTOR.services_by_name["MachineService"]
        for method in service.methods:
            if method.name in DESTRUCTIVE:
                continue
            path = f"/machine.MachineService/{method.name}"
            request = empty_pb2.Empty() if method.input_type.full_name == \
                "google.protobuf.Empty" else getattr(machine_pb2, method.input_type.name)()
            ser = type(request).SerializeToString
            md = node_metadata(node)
            try:
                if method.server_streaming:
                    call: Any = conn.channel.unary_stream(path, request_serializer=ser,
                                                          response_deserializer=bytes)
                    stream = call(request, metadata=md, timeout=10)
                    try:
                        async for _ in stream:
                            break  # one message is an answer (Events/Logs never end)
                    finally:
                        stream.cancel()
                elif method.client_streaming:
                    call = conn.channel.stream_unary(path, request_serializer=ser,
                                                     response_deserializer=bytes)
                    await call(iter(()), metadata=md, timeout=10)
                else:
                    call = conn.channel.unary_unary(path, request_serializer=ser,
                                                    response_deserializer=bytes)
                    await call(request, metadata=md, timeout=10)
                out[method.name] = grpc.StatusCode.OK
            except grpc.aio.AioRpcError as e:
                out[method.name] = e.code()
    finally:
        await conn.close()
    return out


async def _cpufreq(c: Cluster, node: str) -> machine_pb2.CPUFreqStatsResponse:
    ctx = Talosconfig.load(c.talosconfig).get()
    conn = await connect(ConnectionOptions.from_context(ctx))
    try:
        stub = machine_pb2_grpc.MachineServiceStub(conn.channel)
        reply: machine_pb2.CPUFreqStatsResponse = await stub.CPUFreqStats(
            empty_pb2.Empty(), metadata=node_metadata(node), timeout=10)
        return reply
    finally:
        await conn.close()


def test_meta_cpufreq_downgrade_and_no_method_left_unimplemented(
        make_cluster: MakeCluster) -> None:
    c = make_cluster("e2e-api")
    res = c.create("--workers", "0")
    assert res.returncode == 0, res.stderr[-3000:]
    cp = str(ipaddress.IPv4Network(c.cidr).network_address + 2)
    state = Path(c.record().nodes[0].directory) / "state" / "meta.json"

    # META: keys are uint8 (Go's ParseUint base 0), kept in STATE
    r = c.talosctl("-n", cp, "meta", "write", "0x0a", "hello world")
    assert r.returncode == 0, r.stderr
    r = c.talosctl("-n", cp, "meta", "write", "12", "second")
    assert r.returncode == 0, r.stderr
    stored = json.loads(state.read_text())
    assert {k: base64.b64decode(v) for k, v in stored.items()} == \
        {"0x0a": b"hello world", "0x0c": b"second"}
    assert oct(os.stat(state).st_mode & 0o777) == "0o600"
    r = c.talosctl("-n", cp, "meta", "delete", "10")
    assert r.returncode == 0, r.stderr
    assert set(json.loads(state.read_text())) == {"0x0c"}
    r = c.talosctl("-n", cp, "meta", "delete", "10")
    assert r.returncode == 1 and "meta key not found" in r.stderr, r.stderr
    r = c.talosctl("-n", cp, "meta", "write", "256", "x")
    assert r.returncode == 1 and "value out of range" in r.stderr, r.stderr

    # CPU frequency: what the kernel exposes, one entry per CPU with cpufreq (none here)
    reply = asyncio.run(_cpufreq(c, cp))
    cpus = sorted(p for p in os.listdir("/sys/devices/system/cpu")
                  if p.startswith("cpu") and p[3:].isdigit()
                  and os.path.isdir(f"/sys/devices/system/cpu/{p}/cpufreq"))
    assert len(reply.messages) == 1 and len(reply.messages[0].cpu_freq_stats) == len(cpus)

    # etcd downgrade: upstream's version checks, then refused with the reason
    r = c.talosctl("-n", cp, "etcd", "downgrade", "validate", "3")
    assert r.returncode == 1 and "MAJOR.MINOR" in r.stderr, r.stderr
    r = c.talosctl("-n", cp, "etcd", "downgrade", "enable", "3.4")
    assert r.returncode == 1 and "only supported to 3.5 and later" in r.stderr, r.stderr
    r = c.talosctl("-n", cp, "etcd", "downgrade", "validate", "3.5")
    assert r.returncode == 1 and "has no downgrade API" in r.stderr, r.stderr
    assert "(3.4." in r.stderr, r.stderr  # the running etcd's version
    r = c.talosctl("-n", cp, "etcd", "downgrade", "cancel")
    assert r.returncode == 1 and "has no downgrade API" in r.stderr, r.stderr

    codes = asyncio.run(_codes(c, cp))
    unimplemented = {name for name, code in codes.items()
                     if code == grpc.StatusCode.UNIMPLEMENTED}
    assert unimplemented == NOT_YET, codes
