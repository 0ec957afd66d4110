"""Time servers from the config, observed through TimeStatus and time.TimeService, against a
local SNTP responder on loopback (the only server the config names)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import pytest
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2 as m
from talos.api.time import time_pb2, time_pb2_grpc
from talos.machined.ntp import Responder

from .harness import config, machined

Mode = m.ApplyConfigurationRequest
TIME_STATUS = ("v1alpha1", "TimeStatuses.v1alpha1.talos.dev", "node")
SERVERS = ("network", "TimeServerStatuses.net.talos.dev", "timeservers")


@asynccontextmanager
async def responder(offset_s: float) -> AsyncIterator[tuple[Responder, str]]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(
        lambda: Responder(int(offset_s * 1e9)), local_addr=("127.0.0.1", 0))
    try:
        yield proto, f"127.0.0.1:{transport.get_extra_info('sockname')[1]}"
    finally:
        transport.close()


def with_servers(*servers: str) -> bytes:
    lines = "".join(f"\n      - {s}" for s in servers)
    return config("clock", extra="").replace(
        b"machine:\n", f"machine:\n  time:\n    servers:{lines}\n".encode())


async def test_time_follows_the_configured_server_and_reports_sync(tmp_path):
    async with responder(0.25) as (near, near_addr), responder(30) as (far, far_addr):
        async with machined(tmp_path, seed=with_servers(near_addr)) as n:
            await n.wait_stage("running")
            assert near_addr in await n.wait_resource(*SERVERS, near_addr)
            await n.wait_resource(*TIME_STATUS, "synced")
            assert near.queries >= 1
            status = await n.wait_resource(*TIME_STATUS, "synced: true")
            assert "syncDisabled: false" in status
            api = time_pb2_grpc.TimeServiceStub(n.channel)
            t = (await api.Time(empty_pb2.Empty())).messages[0]
            assert t.server == near_addr
            offset = t.remotetime.ToNanoseconds() - t.localtime.ToNanoseconds()
            assert 0.2e9 < offset < 0.3e9
            # only configured servers are ever asked
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await api.TimeCheck(time_pb2.TimeRequest(server=far_addr))
            assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert far.queries == 0
            # switch servers without a reboot: the far one is 30 s off, so not synced
            r = await n.apply(with_servers(far_addr), Mode.NO_REBOOT)
            assert r.mode == Mode.NO_REBOOT
            await n.wait_resource(*TIME_STATUS, "synced: false")
            t = (await api.Time(empty_pb2.Empty())).messages[0]
            assert t.server == far_addr
            check = (await api.TimeCheck(time_pb2.TimeRequest(server=far_addr))).messages[0]
            assert check.remotetime.seconds - check.localtime.seconds in (29, 30, 31)
            # no servers named: the node keeps the host's clock, sync disabled
            await n.apply(config("clock"), Mode.NO_REBOOT)
            status = await n.wait_resource(*TIME_STATUS, "syncDisabled: true")
            t = (await api.Time(empty_pb2.Empty())).messages[0]
            assert t.server == "" and not t.HasField("remotetime")
            addresses = await n.resource_text("network", "NodeAddresses.net.talos.dev",
                                              "current")
            assert addresses is not None and "addresses" in addresses
