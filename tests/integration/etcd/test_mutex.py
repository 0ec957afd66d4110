"""The etcd upgrade mutex against a real etcd 3.4 member, and against etcdctl's `lock`
(clientv3 concurrency.Mutex, the Go implementation upstream Talos uses)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from talos.api.etcdserverpb import rpc_pb2 as pb
from talos.machined.etcd.client import EtcdClient
from talos.machined.etcd.mutex import UPGRADE_MUTEX, upgrade_mutex
from talos.machinery.errors import FailedPrecondition, NotFound, Unavailable
from tests.integration.etcd.harness import EtcdNode, etcd_nodes, needs_etcd

pytestmark = needs_etcd

LOCKED = ("failed to acquire upgrade mutex: error trying to lock etcd upgrade mutex: "
          "mutex: Locked by another session")
PREFIX = UPGRADE_MUTEX.encode() + b"/"


@asynccontextmanager
async def one_member(tmp: Path) -> AsyncIterator[tuple[EtcdNode, EtcdClient]]:
    async with etcd_nodes(tmp, 1) as nodes:
        node = nodes[0]
        node.start()
        await node.manager.bootstrap(recover=False, skip_hash_check=False)
        await node.wait_up()
        async with await node.manager.client() as client:
            yield node, client


async def holders(client: EtcdClient) -> list[bytes]:
    """Keys under the mutex's prefix, oldest first (the owner, then the waiters)."""
    resp = await client.txn([], [pb.RequestOp(request_range=pb.RangeRequest(
        key=PREFIX, range_end=PREFIX[:-1] + b"0",  # "/" + 1: every key under the prefix
        sort_order=pb.RangeRequest.ASCEND,
        sort_target=pb.RangeRequest.CREATE))], [])
    return [kv.key for kv in resp.responses[0].response_range.kvs]


@asynccontextmanager
async def etcdctl_lock(node: EtcdNode, *, ttl: int = 10
                       ) -> AsyncIterator[asyncio.subprocess.Process]:
    """`etcdctl lock talos:v1:etcdUpgradeMutex` (Go's concurrency.Mutex.Lock, blocking until it
    holds the lock, then printing its key); killed by pid whatever happens."""
    pki = node.manager.pki
    crt, key = pki.pair("client")
    assert node.manager.settings is not None
    proc = await asyncio.create_subprocess_exec(
        "etcdctl", f"--endpoints={node.manager.settings.client_endpoint}",
        f"--cacert={pki.ca}", f"--cert={crt}", f"--key={key}", "lock", f"--ttl={ttl}",
        UPGRADE_MUTEX, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        await proc.communicate()


async def test_a_second_session_cannot_take_the_upgrade_mutex_until_the_first_leaves(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="talos.machined.etcd.mutex")
    async with one_member(tmp_path) as (_, client):
        async with upgrade_mutex(client) as held:
            # clientv3's layout: <name>/<lease ID in hex>, attached to the session's lease
            assert held.key == PREFIX + f"{held.lease:x}".encode()
            assert held.ttl >= 60
            assert await client.get(held.key) == b""
            with pytest.raises(FailedPrecondition) as err:
                async with upgrade_mutex(client):
                    pytest.fail("two sessions hold the upgrade mutex")
            assert str(err.value) == LOCKED
            # the loser took its key back and the holder still holds the lock
            assert await holders(client) == [held.key]
        # leaving deleted the key and revoked the lease
        assert await holders(client) == []
        assert [r.getMessage() for r in caplog.records] == [
            f"etcd upgrade mutex locked with session ID {held.lease:08x}",
            "etcd upgrade mutex unlocked and session closed"]
        with pytest.raises(NotFound):
            await client.lease_keep_alive(held.lease)
        async with upgrade_mutex(client) as again:
            assert again.lease != held.lease
            assert await holders(client) == [again.key]
        assert await holders(client) == []


async def test_the_mutex_is_released_when_the_body_fails_or_is_cancelled(
        tmp_path: Path) -> None:
    async with one_member(tmp_path) as (node, client):
        with pytest.raises(FailedPrecondition, match=r"^quorum lost$"):  # not an ExceptionGroup
            async with upgrade_mutex(client) as held:
                raise FailedPrecondition("quorum lost")
        assert await holders(client) == []
        with pytest.raises(NotFound):
            await client.lease_keep_alive(held.lease)

        entered = asyncio.Event()

        async def hold() -> None:
            async with upgrade_mutex(client):
                entered.set()
                await asyncio.Event().wait()
        task = asyncio.create_task(hold())
        await entered.wait()
        assert len(await holders(client)) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await holders(client) == []

        # no etcd to talk to: the session cannot be established, worded as upstream
        await node.stop()
        client.timeout = 2.0
        with pytest.raises(Unavailable) as err:
            async with upgrade_mutex(client):
                pytest.fail("the upgrade mutex was taken without etcd")
        assert str(err.value).startswith("failed to acquire upgrade mutex: error "
                                         "establishing etcd concurrency session: etcd ")


async def test_a_go_client_and_this_one_see_each_others_lock(tmp_path: Path) -> None:
    async with one_member(tmp_path) as (node, client):
        # etcdctl (Go clientv3) holds it: this node's TryLock fails
        async with etcdctl_lock(node) as go:
            assert go.stdout is not None
            go_key = (await go.stdout.readline()).strip()
            assert re.fullmatch(rb"talos:v1:etcdUpgradeMutex/[0-9a-f]+", go_key), go_key
            with pytest.raises(FailedPrecondition) as err:
                async with upgrade_mutex(client):
                    pytest.fail("the upgrade mutex was taken while etcdctl held it")
            assert str(err.value) == LOCKED
            go.send_signal(signal.SIGTERM)  # etcdctl unlocks and closes its session
            assert await go.wait() == 0
        assert await holders(client) == []

        # this node holds it: etcdctl queues behind it and gets it only once it is released
        async with etcdctl_lock(node) as go:
            assert go.stdout is not None
            async with upgrade_mutex(client) as held:
                while len(await holders(client)) < 2:  # noqa: ASYNC110 (until etcdctl has queued)
                    await asyncio.sleep(0.05)
                owner, waiter = await holders(client)
                assert owner == held.key and waiter != held.key
            assert (await go.stdout.readline()).strip() == waiter
            go.send_signal(signal.SIGTERM)
            assert await go.wait() == 0
        assert await holders(client) == []


async def test_a_holder_that_stops_renewing_its_lease_loses_the_mutex(tmp_path: Path) -> None:
    async with one_member(tmp_path) as (node, client):
        # a holder that dies (SIGKILL: nothing revokes its lease) holds the lock until its
        # 2 s lease expires (etcd's minimum TTL with 100 ms heartbeats and 1 s elections)
        async with etcdctl_lock(node, ttl=2) as go:
            assert go.stdout is not None
            go_key = (await go.stdout.readline()).strip()
            go.kill()
            await go.wait()
            with pytest.raises(FailedPrecondition):
                async with upgrade_mutex(client):
                    pass
            while await client.get(go_key) is not None:  # noqa: ASYNC110 (the lease expires)
                await asyncio.sleep(0.2)
        async with upgrade_mutex(client) as held:
            assert await holders(client) == [held.key]


async def test_the_mutex_is_kept_while_held_longer_than_its_lease_ttl(tmp_path: Path) -> None:
    async with one_member(tmp_path) as (_, client):
        async with upgrade_mutex(client, ttl=2) as held:
            assert held.ttl == 2
            await asyncio.sleep(3 * held.ttl)  # the lease would have expired twice over
            assert await holders(client) == [held.key]
            with pytest.raises(FailedPrecondition):
                async with upgrade_mutex(client):
                    pass
            assert await client.lease_keep_alive(held.lease) > 0
        assert await holders(client) == []
