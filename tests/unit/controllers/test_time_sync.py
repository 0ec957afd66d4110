"""time.SyncController against real SNTP servers on loopback (talos.machined.ntp.Responder):
synced when the first answering server's offset is within a second, re-checked every poll
(fake clock), disabled (and nothing queried) with no server or `machine.time.disabled`."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.time.sync import SyncController
from talos.machined.ntp import Responder, query
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import TIME_SERVER_STATUS, TimeServerStatusSpec
from talos.machinery.resources.v1alpha1 import TIME_STATUS, TimeStatusSpec
from tests.unit.controllers.configs import machine_config


@asynccontextmanager
async def ntp_server(offset_ns: int = 0) -> AsyncIterator[tuple[Responder, str]]:
    transport, responder = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: Responder(offset_ns), local_addr=("127.0.0.1", 0))
    try:
        yield responder, f"127.0.0.1:{transport.get_extra_info('sockname')[1]}"
    finally:
        transport.close()


def closed_udp_port() -> str:
    """A loopback UDP port nobody listens on (a query there is refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


async def test_a_server_within_a_second_means_synced_and_is_rechecked_every_poll() -> None:
    async with ntp_server() as (responder, server), \
            ControllerHarness(SyncController(query, poll=64)) as h:
        await h.put(TIME_SERVER_STATUS, "timeservers", TimeServerStatusSpec((server,)))
        await h.until_output(TIME_STATUS, "node",
                             lambda s: s == TimeStatusSpec(synced=True, sync_disabled=False))
        assert responder.queries >= 1

        responder.offset_ns = 5_000_000_000  # the server's clock moves 5 s away
        await h.advance(64)
        await h.until_output(TIME_STATUS, "node", lambda s: not s.synced)
        assert not h.outputs(TIME_STATUS)["node"].sync_disabled


async def test_the_first_server_that_answers_wins() -> None:
    async with ntp_server(offset_ns=3_000_000_000) as (far, far_server), \
            ntp_server() as (near, near_server), \
            ControllerHarness(SyncController(query)) as h:
        await h.put(TIME_SERVER_STATUS, "timeservers",
                    TimeServerStatusSpec((closed_udp_port(), near_server, far_server)))
        await h.until_output(TIME_STATUS, "node", lambda s: s.synced and not s.sync_disabled)
        assert near.queries >= 1 and far.queries == 0


async def test_no_answering_server_is_not_synced() -> None:
    async with ControllerHarness(SyncController(query)) as h:
        await h.put(TIME_SERVER_STATUS, "timeservers",
                    TimeServerStatusSpec((closed_udp_port(),)))
        await h.until_output(TIME_STATUS, "node",
                             lambda s: s == TimeStatusSpec(synced=False, sync_disabled=False))


async def test_sync_is_disabled_without_servers_or_by_config() -> None:
    async with ntp_server() as (responder, server), \
            ControllerHarness(SyncController(query)) as h:
        await h.until_output(TIME_STATUS, "node",
                             lambda s: s == TimeStatusSpec(synced=True, sync_disabled=True))
        await h.put(MACHINE_CONFIG, ACTIVE_ID,
                    machine_config({"machine": {"time": {"disabled": True}}}))
        await h.put(TIME_SERVER_STATUS, "timeservers", TimeServerStatusSpec((server,)))
        await h.settled()
        assert h.outputs(TIME_STATUS)["node"] == TimeStatusSpec(synced=True,
                                                                sync_disabled=True)
        assert responder.queries == 0

        # sync enabled again: the server is asked
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config({"machine": {"time": {}}}))
        await h.until_output(TIME_STATUS, "node", lambda s: not s.sync_disabled and s.synced)
        assert responder.queries >= 1
