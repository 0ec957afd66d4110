"""An etcd mutex held by a lease, with etcd clientv3's `concurrency` layout (upstream Talos
v1.13.9 locks `talos:v1:etcdUpgradeMutex` this way around a control plane's pre-upgrade
etcd checks, `tryLockUpgradeMutex`).

Layout and TryLock semantics are clientv3's `concurrency.Mutex`, so a Go client contending
for the same name sees this lock and the other way round:

- a session is a lease (granted with the TTL asked for; etcd may raise it to its minimum)
  renewed every TTL/3 while the lock is held;
- the own key is `<name>/<lease ID in lowercase hex>`, value empty, attached to the lease;
- one transaction: if the own key does not exist (create revision 0) put it, else read it;
  in both branches read the key under `<name>/` created first (the owner);
- the lock is held when there is no owner or the owner is the own key (same create
  revision); otherwise the own key is deleted again and TryLock fails ("mutex: Locked by
  another session").

Leaving (also on an error or a cancellation) deletes the own key and revokes the lease,
each bounded by RELEASE_TIMEOUT; a failure there is only logged, as upstream: the lease
expires on its own within its TTL. `session` and `try_lock` are clientv3's Session and
Mutex; `upgrade_mutex` is upstream's tryLockUpgradeMutex on top of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from talos.api.etcdserverpb import rpc_pb2 as pb
from talos.machined.etcd.client import EtcdClient
from talos.machinery.errors import FailedPrecondition, NotFound, TalosError

log = logging.getLogger("talos.machined.etcd.mutex")

#: upstream constants.EtcdTalosEtcdUpgradeMutex (EtcdRootTalosKey + ":etcdUpgradeMutex")
UPGRADE_MUTEX = "talos:v1:etcdUpgradeMutex"
#: upstream MinimumEtcdUpgradeLeaseLockSeconds: the TTL of the upgrade mutex's lease
UPGRADE_LEASE_TTL = 60
#: seconds for deleting the own key and revoking the lease on leaving (upstream: 5 s)
RELEASE_TIMEOUT = 5.0
#: clientv3's concurrency.ErrLocked
LOCKED = "mutex: Locked by another session"


@dataclass(frozen=True)
class Session:
    """clientv3's concurrency.Session: a lease kept alive while the session is open."""

    client: EtcdClient
    lease: int
    #: the TTL etcd granted, in seconds
    ttl: int


@dataclass(frozen=True)
class Held:
    """A lock held: the own key (`<name>/<lease hex>`) and its create revision."""

    key: bytes
    lease: int
    ttl: int
    revision: int


def _prefix_end(prefix: bytes) -> bytes:
    """clientv3.GetPrefixRangeEnd: the first key after every key starting with `prefix`."""
    end = bytearray(prefix)
    for i in range(len(end) - 1, -1, -1):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[:i + 1])
    return b"\x00"


async def _try_acquire(client: EtcdClient, key: bytes, prefix: bytes, lease: int
                       ) -> int | None:
    """clientv3 Mutex.TryLock: the own key's create revision when the lock is ours, None
    (after deleting the own key again) when another session holds it."""
    owner = pb.RequestOp(request_range=pb.RangeRequest(
        key=prefix, range_end=_prefix_end(prefix), limit=1,
        sort_order=pb.RangeRequest.ASCEND, sort_target=pb.RangeRequest.CREATE))
    resp = await client.txn(
        [pb.Compare(key=key, target=pb.Compare.CREATE, result=pb.Compare.EQUAL,
                    create_revision=0)],
        [pb.RequestOp(request_put=pb.PutRequest(key=key, value=b"", lease=lease)), owner],
        [pb.RequestOp(request_range=pb.RangeRequest(key=key)), owner])
    if resp.succeeded:
        revision = int(resp.header.revision)
    else:
        revision = int(resp.responses[0].response_range.kvs[0].create_revision)
    owners = resp.responses[1].response_range.kvs
    if not owners or owners[0].create_revision == revision:
        return revision
    await client.delete(key)
    return None


async def _keep_alive(client: EtcdClient, lease: int, ttl: int) -> None:
    """Renew the lease every TTL/3 (as clientv3's keep-alive loop) until cancelled. Never
    raises: a failed renewal is logged and retried at the next tick; a lease that is gone
    ends the loop with a warning (the lock is lost, as with upstream's session)."""
    while True:
        await asyncio.sleep(max(ttl / 3, 0.5))
        try:
            ttl = await client.lease_keep_alive(lease)
        except NotFound:
            log.warning("etcd mutex: lease %x expired: the lock is no longer held", lease)
            return
        except TalosError as exc:
            log.warning("etcd mutex: renewing lease %x failed (retrying): %s", lease, exc)


async def _bounded(what: str, call: Awaitable[object]) -> None:
    """A release step: at most RELEASE_TIMEOUT, a failure only logged (as upstream)."""
    try:
        async with asyncio.timeout(RELEASE_TIMEOUT):
            await call
    except NotFound:
        pass  # the lease expired already: its keys went with it
    except TimeoutError:
        log.warning("etcd mutex: %s took longer than %.0f s (the lease expires on its own)",
                    what, RELEASE_TIMEOUT)
    except TalosError as exc:
        log.warning("etcd mutex: error %s: %s", what, exc)


@asynccontextmanager
async def session(client: EtcdClient, *, ttl: int) -> AsyncIterator[Session]:
    """A lease of `ttl` seconds renewed every TTL/3 while the body runs; revoked on leaving
    (also on an error or a cancellation), which deletes every key attached to it."""
    lease, granted = await client.lease_grant(ttl)
    failure: BaseException | None = None
    try:
        # the keeper is owned by this TaskGroup and never outlives the body; the body's own
        # exception is kept out of the group (it would come back as an ExceptionGroup)
        async with asyncio.TaskGroup() as tg:
            keeper = tg.create_task(_keep_alive(client, lease, granted))
            try:
                yield Session(client, lease, granted)
            except BaseException as exc:  # re-raised below, once the keeper has stopped
                failure = exc
            finally:
                keeper.cancel()
    finally:
        await _bounded(f"revoking lease {lease:x}", client.lease_revoke(lease))
    if failure is not None:
        raise failure


@asynccontextmanager
async def try_lock(sess: Session, name: str) -> AsyncIterator[Held]:
    """clientv3 Mutex.TryLock on `name` for the body, or FailedPrecondition ("mutex: Locked
    by another session") at once; the own key is deleted on leaving (Mutex.Unlock)."""
    prefix = name.encode() + b"/"
    key = prefix + f"{sess.lease:x}".encode()
    revision = await _try_acquire(sess.client, key, prefix, sess.lease)
    if revision is None:
        raise FailedPrecondition(LOCKED)
    try:
        yield Held(key=key, lease=sess.lease, ttl=sess.ttl, revision=revision)
    finally:
        await _bounded(f"unlocking {key.decode()}", sess.client.delete(key))


@asynccontextmanager
async def upgrade_mutex(client: EtcdClient, *, ttl: int = UPGRADE_LEASE_TTL
                        ) -> AsyncIterator[Held]:
    """Upstream's tryLockUpgradeMutex: `talos:v1:etcdUpgradeMutex` held for the body, a
    failure to take it worded as upstream's Upgrade returns it."""
    step = "error establishing etcd concurrency session"
    try:
        async with session(client, ttl=ttl) as sess:
            step = "error trying to lock etcd upgrade mutex"
            async with try_lock(sess, UPGRADE_MUTEX) as held:
                step = ""
                log.info("etcd upgrade mutex locked with session ID %08x", held.lease)
                yield held
    except TalosError as exc:
        if not step:
            raise
        err = type(exc)(f"failed to acquire upgrade mutex: {step}: {exc}")
        err.code = exc.code
        raise err from None
    finally:
        if not step:
            log.info("etcd upgrade mutex unlocked and session closed")
