"""A small asyncio client for etcd's v3 gRPC API (stubs generated from proto/etcdserverpb).

Mutual TLS with the node's etcd client certificate. Unary calls try each endpoint in order
(the first that answers wins), every call has a deadline, and gRPC failures become the
project's errors with the endpoint and etcd's own message in them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from talos.api.etcdserverpb import rpc_pb2 as pb
from talos.api.etcdserverpb import rpc_pb2_grpc as pb_grpc
from talos.machinery.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    TalosError,
    Unavailable,
)

T = TypeVar("T")

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class ClientTLS:
    ca: bytes
    crt: bytes
    key: bytes


def _translate(endpoint: str, exc: grpc.aio.AioRpcError) -> TalosError:
    code = exc.code()
    detail = exc.details() or code.name
    msg = f"etcd {endpoint}: {detail}"
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Unavailable(msg)
    if code is grpc.StatusCode.NOT_FOUND:
        return NotFound(msg)
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgument(msg)
    if code is grpc.StatusCode.FAILED_PRECONDITION:
        return FailedPrecondition(msg)
    err = TalosError(msg)
    err.code = code.name
    return err


class _Conn:
    def __init__(self, endpoint: str, tls: ClientTLS) -> None:
        creds = grpc.ssl_channel_credentials(tls.ca, tls.key, tls.crt)
        self.endpoint = endpoint
        self.channel = grpc.aio.secure_channel(endpoint, creds, options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 1000),
        ])
        self.kv = pb_grpc.KVStub(self.channel)
        self.lease = pb_grpc.LeaseStub(self.channel)
        self.cluster = pb_grpc.ClusterStub(self.channel)
        self.maintenance = pb_grpc.MaintenanceStub(self.channel)


class EtcdClient:
    """Client of one etcd cluster through `endpoints` ("host:port")."""

    def __init__(self, endpoints: Sequence[str], tls: ClientTLS,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        if not endpoints:
            raise InvalidArgument("etcd client: no endpoints")
        self.endpoints = tuple(endpoints)
        self.timeout = timeout
        self._conns = [_Conn(e, tls) for e in self.endpoints]

    async def close(self) -> None:
        for c in self._conns:
            await c.channel.close()

    async def __aenter__(self) -> EtcdClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, fn: Callable[[_Conn], Awaitable[T]]) -> T:
        last: TalosError | None = None
        for conn in self._conns:
            try:
                return await fn(conn)
            except grpc.aio.AioRpcError as exc:
                last = _translate(conn.endpoint, exc)
                if not isinstance(last, Unavailable):
                    raise last from None
        assert last is not None
        raise last

    # -- cluster ------------------------------------------------------------------------------

    async def member_list(self) -> list[pb.Member]:
        resp: pb.MemberListResponse = await self._call(
            lambda c: c.cluster.MemberList(pb.MemberListRequest(), timeout=self.timeout))
        return list(resp.members)

    async def member_add(self, peer_urls: Sequence[str], *, learner: bool
                         ) -> pb.MemberAddResponse:
        resp: pb.MemberAddResponse = await self._call(lambda c: c.cluster.MemberAdd(
            pb.MemberAddRequest(peerURLs=list(peer_urls), isLearner=learner),
            timeout=self.timeout))
        return resp

    async def member_remove(self, member_id: int, *, settle: float = 15.0) -> list[pb.Member]:
        """Remove a member. etcd refuses reconfiguration ("unhealthy cluster") until its
        leader has been connected to every voting member for 5 s; that is waited out for up
        to `settle` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settle
        while True:
            try:
                resp: pb.MemberRemoveResponse = await self._call(
                    lambda c: c.cluster.MemberRemove(pb.MemberRemoveRequest(ID=member_id),
                                                     timeout=self.timeout))
                return list(resp.members)
            except TalosError as exc:
                if "unhealthy cluster" not in str(exc) or loop.time() > deadline:
                    raise
            await asyncio.sleep(0.25)

    async def member_update(self, member_id: int, peer_urls: Sequence[str]) -> list[pb.Member]:
        resp: pb.MemberUpdateResponse = await self._call(lambda c: c.cluster.MemberUpdate(
            pb.MemberUpdateRequest(ID=member_id, peerURLs=list(peer_urls)),
            timeout=self.timeout))
        return list(resp.members)

    async def member_promote(self, member_id: int) -> list[pb.Member]:
        resp: pb.MemberPromoteResponse = await self._call(lambda c: c.cluster.MemberPromote(
            pb.MemberPromoteRequest(ID=member_id), timeout=self.timeout))
        return list(resp.members)

    # -- maintenance --------------------------------------------------------------------------

    async def status(self) -> pb.StatusResponse:
        """Status of the first endpoint that answers."""
        resp: pb.StatusResponse = await self._call(
            lambda c: c.maintenance.Status(pb.StatusRequest(), timeout=self.timeout))
        return resp

    async def alarms(self) -> list[pb.AlarmMember]:
        resp: pb.AlarmResponse = await self._call(lambda c: c.maintenance.Alarm(
            pb.AlarmRequest(action=pb.AlarmRequest.GET), timeout=self.timeout))
        return list(resp.alarms)

    async def disarm_alarms(self) -> list[pb.AlarmMember]:
        """Deactivate every active alarm; the alarms that were active."""
        active = await self.alarms()
        for a in active:
            req = pb.AlarmRequest(action=pb.AlarmRequest.DEACTIVATE, memberID=a.memberID,
                                  alarm=a.alarm)

            async def deactivate(c: _Conn, req: pb.AlarmRequest = req) -> pb.AlarmResponse:
                resp: pb.AlarmResponse = await c.maintenance.Alarm(req, timeout=self.timeout)
                return resp
            await self._call(deactivate)
        return active

    async def defragment(self) -> None:
        """Defragment the first endpoint's backend (blocks that member while it runs)."""
        await self._call(lambda c: c.maintenance.Defragment(pb.DefragmentRequest(),
                                                            timeout=max(self.timeout, 60.0)))

    async def move_leader(self, target_id: int) -> None:
        """Must reach the current leader; callers pass the leader's endpoint."""
        await self._call(lambda c: c.maintenance.MoveLeader(
            pb.MoveLeaderRequest(targetID=target_id), timeout=self.timeout))

    async def snapshot(self) -> AsyncIterator[tuple[int, bytes]]:
        """The database as etcd streams it (a consistent bbolt copy with its sha256 appended):
        (revision at the snapshot, chunk) pairs. No overall deadline: large databases take
        as long as they take; the caller cancels."""
        conn = self._conns[0]
        call: Any = conn.maintenance.Snapshot(pb.SnapshotRequest())
        revision = 0
        try:
            async for resp in call:
                if revision == 0 and resp.header.revision:
                    revision = resp.header.revision
                if resp.blob:
                    yield revision, resp.blob
        except grpc.aio.AioRpcError as exc:
            raise _translate(conn.endpoint, exc) from None
        finally:
            with contextlib.suppress(Exception):
                call.cancel()

    # -- kv -----------------------------------------------------------------------------------

    async def get(self, key: bytes, *, serializable: bool = False) -> bytes | None:
        resp: pb.RangeResponse = await self._call(lambda c: c.kv.Range(
            pb.RangeRequest(key=key, serializable=serializable), timeout=self.timeout))
        return resp.kvs[0].value if resp.kvs else None

    async def put(self, key: bytes, value: bytes) -> int:
        resp: pb.PutResponse = await self._call(lambda c: c.kv.Put(
            pb.PutRequest(key=key, value=value), timeout=self.timeout))
        return int(resp.header.revision)

    async def delete(self, key: bytes, range_end: bytes = b"") -> int:
        """Delete `key` (or [key, range_end)); how many keys were deleted."""
        resp: pb.DeleteRangeResponse = await self._call(lambda c: c.kv.DeleteRange(
            pb.DeleteRangeRequest(key=key, range_end=range_end), timeout=self.timeout))
        return int(resp.deleted)

    async def txn(self, compare: Sequence[pb.Compare], success: Sequence[pb.RequestOp],
                  failure: Sequence[pb.RequestOp]) -> pb.TxnResponse:
        """One transaction: `success` if every comparison holds, else `failure`."""
        req = pb.TxnRequest(compare=list(compare), success=list(success),
                            failure=list(failure))
        resp: pb.TxnResponse = await self._call(lambda c: c.kv.Txn(req, timeout=self.timeout))
        return resp

    # -- lease --------------------------------------------------------------------------------

    async def lease_grant(self, ttl: int) -> tuple[int, int]:
        """A new lease: (ID, TTL in seconds as etcd granted it; it raises a TTL below its
        minimum)."""
        resp: pb.LeaseGrantResponse = await self._call(lambda c: c.lease.LeaseGrant(
            pb.LeaseGrantRequest(TTL=ttl), timeout=self.timeout))
        if resp.error:
            raise Unavailable(f"etcd: granting a lease: {resp.error}")
        return int(resp.ID), int(resp.TTL)

    async def lease_revoke(self, lease: int) -> None:
        """Revoke a lease: every key attached to it is deleted. NotFound if it is gone."""
        await self._call(lambda c: c.lease.LeaseRevoke(pb.LeaseRevokeRequest(ID=lease),
                                                       timeout=self.timeout))

    async def lease_keep_alive(self, lease: int) -> int:
        """Renew a lease once (a LeaseKeepAlive stream with one request, like clientv3's
        KeepAliveOnce): its TTL again, in seconds. NotFound if it has expired or been
        revoked."""
        async def once(c: _Conn) -> int:
            call: Any = c.lease.LeaseKeepAlive(timeout=self.timeout)
            try:
                await call.write(pb.LeaseKeepAliveRequest(ID=lease))
                resp = await call.read()
                if resp is grpc.aio.EOF:
                    raise Unavailable(f"etcd {c.endpoint}: lease keep-alive stream ended "
                                      "without an answer")
                await call.done_writing()
                return int(resp.TTL)
            finally:
                call.cancel()
        ttl = await self._call(once)
        if ttl <= 0:
            raise NotFound(f"etcd: lease {lease:x} has expired or was revoked")
        return ttl

    async def health(self) -> None:
        """A linearizable read: returns only when the cluster has quorum and a leader."""
        await self._call(lambda c: c.kv.Range(
            pb.RangeRequest(key=b"health", count_only=True), timeout=self.timeout))
        for alarm in await self.alarms():
            raise Unavailable(f"etcd alarm {pb.AlarmType.Name(alarm.alarm)} on member "
                              f"{alarm.memberID:x}")
