"""A discovery service client (siderolabs/discovery-client's behaviour): Hello, then keep a
Watch open (a snapshot, then changes) and push this node's sealed affiliate data whenever it
changes and every TTL/2; reconnect after errors with a short bounded back-off.

`affiliates()` is what the service last reported about the other nodes (decrypted; data that
does not open with the cluster key is skipped); `on_change` is called whenever it changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import grpc
import grpc.aio
from google.protobuf import duration_pb2

from talos.api.discovery.server import cluster_pb2 as pb
from talos.api.discovery.server import cluster_pb2_grpc
from talos.machined.controllers.cluster.cipher import (
    DecryptError,
    decrypt_affiliate,
    encrypt_affiliate,
)
from talos.machinery import version
from talos.machinery.resources.cluster import AffiliateSpec

log = logging.getLogger("machined")

TTL = 30 * 60.0
CALL_TIMEOUT = 10.0
BACKOFF_MIN, BACKOFF_MAX = 0.1, 2.0


class DiscoveryClient:
    def __init__(self, endpoint: str, insecure: bool, key: bytes, cluster_id: str,
                 affiliate_id: str, on_change: Callable[[], None], ttl: float = TTL) -> None:
        self.endpoint = endpoint
        self.insecure = insecure
        self.key = key
        self.cluster_id = cluster_id
        self.affiliate_id = affiliate_id
        self.on_change = on_change
        self.ttl = ttl
        self._local: AffiliateSpec | None = None
        self._delete = False
        self._dirty = asyncio.Event()
        self._discovered: dict[str, AffiliateSpec] = {}
        self.connected = False

    # ---- inputs / outputs ----------------------------------------------------------------
    def set_local(self, spec: AffiliateSpec) -> None:
        if spec != self._local or self._delete:
            self._local, self._delete = spec, False
            self._dirty.set()

    def delete_local(self) -> None:
        if not self._delete:
            self._local, self._delete = None, True
            self._dirty.set()

    def affiliates(self) -> list[AffiliateSpec]:
        return list(self._discovered.values())

    # ---- the loop ------------------------------------------------------------------------
    async def run(self) -> None:
        backoff = BACKOFF_MIN
        last = ""
        while True:
            # the session's task group wraps what failed in an ExceptionGroup
            problem = ""
            try:
                await self._session()
            except* grpc.aio.AioRpcError as eg:
                e = eg.exceptions[0]
                assert isinstance(e, grpc.aio.AioRpcError)
                problem = f"{e.code().name}: {e.details()}"
            except* ConnectionError as eg:
                problem = str(eg.exceptions[0])
            if self.connected:
                backoff = BACKOFF_MIN  # a session that got going starts the back-off afresh
                last = ""
            if problem != last:  # retried every <= 2 s: say it once, not every time
                log.warning("discovery service %s: %s (retrying)", self.endpoint, problem)
                last = problem
            self.connected = False
            await asyncio.sleep(backoff)
            backoff = min(BACKOFF_MAX, backoff * 2)

    def _channel(self) -> grpc.aio.Channel:
        if self.insecure:
            return grpc.aio.insecure_channel(self.endpoint)
        return grpc.aio.secure_channel(self.endpoint, grpc.ssl_channel_credentials())

    async def _session(self) -> None:
        async with self._channel() as channel:
            stub = cluster_pb2_grpc.ClusterStub(channel)
            await stub.Hello(pb.HelloRequest(cluster_id=self.cluster_id,
                                             client_version=version.TAG),
                             timeout=CALL_TIMEOUT)
            self.connected = True
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._watch(stub))
                tg.create_task(self._push(stub))

    async def _push(self, stub: cluster_pb2_grpc.ClusterStub) -> None:
        self._dirty.set()
        while True:
            try:
                await asyncio.wait_for(self._dirty.wait(), self.ttl / 2)
            except TimeoutError:
                pass
            self._dirty.clear()
            if self._delete:
                await stub.AffiliateDelete(pb.AffiliateDeleteRequest(
                    cluster_id=self.cluster_id, affiliate_id=self.affiliate_id),
                    timeout=CALL_TIMEOUT)
                continue
            if self._local is None:
                continue
            ttl = duration_pb2.Duration()
            ttl.FromNanoseconds(int(self.ttl * 1e9))
            await stub.AffiliateUpdate(pb.AffiliateUpdateRequest(
                cluster_id=self.cluster_id, affiliate_id=self.affiliate_id,
                affiliate_data=encrypt_affiliate(self.key, self._local), ttl=ttl),
                timeout=CALL_TIMEOUT)

    async def _watch(self, stub: cluster_pb2_grpc.ClusterStub) -> None:
        snapshot = True
        async for resp in stub.Watch(pb.WatchRequest(cluster_id=self.cluster_id)):
            if snapshot:
                self._discovered = {}
            changed = snapshot
            snapshot = False
            for a in resp.affiliates:
                if a.id == self.affiliate_id:
                    continue
                if resp.deleted:
                    changed |= self._discovered.pop(a.id, None) is not None
                    continue
                if not a.data:
                    continue
                try:
                    spec = decrypt_affiliate(self.key, a.data)
                except DecryptError as e:
                    log.warning("discovery: affiliate %s skipped: %s", a.id, e)
                    continue
                if self._discovered.get(a.id) != spec:
                    self._discovered[a.id] = spec
                    changed = True
            if changed:
                self.on_change()
        raise ConnectionError("watch stream ended")
