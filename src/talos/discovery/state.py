"""The discovery service's in-memory state: clusters of affiliates with TTLs, and watchers.

Time comes from a `now` function (monotonic seconds) so tests can drive expiry. Every change
is published to the cluster's watchers as a `Change`: `deleted=False` carries the affiliate's
current data and endpoints, `deleted=True` only its id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from talos.machinery.errors import InvalidArgument

#: upstream limits (siderolabs/discovery-service): a TTL is capped at 30 minutes
MAX_TTL = 30 * 60.0
MAX_DATA = 2048
MAX_ENDPOINT = 32
MAX_ENDPOINTS = 64
MAX_AFFILIATES = 1024
MAX_ID = 256


@dataclass(frozen=True)
class Affiliate:
    id: str
    data: bytes
    endpoints: tuple[bytes, ...]


@dataclass(frozen=True)
class Change:
    affiliate: Affiliate
    deleted: bool = False


@dataclass
class _Entry:
    data: bytes = b""
    expires: float = 0.0
    #: endpoint -> when it expires (each has its own TTL, as upstream)
    endpoints: dict[bytes, float] = field(default_factory=dict)

    def view(self, id: str) -> Affiliate:
        return Affiliate(id, self.data, tuple(self.endpoints))


class DiscoveryState:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self.now = now
        self._clusters: dict[str, dict[str, _Entry]] = {}
        self._watchers: dict[str, set[asyncio.Queue[Change]]] = {}

    # ---- validation ----------------------------------------------------------------------
    @staticmethod
    def check_ids(cluster_id: str, affiliate_id: str | None = None) -> None:
        if not cluster_id:
            raise InvalidArgument("cluster_id: required")
        if len(cluster_id) > MAX_ID:
            raise InvalidArgument(f"cluster_id: longer than {MAX_ID} characters")
        if affiliate_id is not None:
            if not affiliate_id:
                raise InvalidArgument("affiliate_id: required")
            if len(affiliate_id) > MAX_ID:
                raise InvalidArgument(f"affiliate_id: longer than {MAX_ID} characters")

    # ---- changes -------------------------------------------------------------------------
    def update(self, cluster_id: str, affiliate_id: str, data: bytes | None,
               endpoints: list[bytes], ttl: float) -> None:
        self.check_ids(cluster_id, affiliate_id)
        if data is not None and len(data) > MAX_DATA:
            raise InvalidArgument(f"affiliate_data: larger than {MAX_DATA} bytes")
        for i, e in enumerate(endpoints):
            if len(e) > MAX_ENDPOINT:
                raise InvalidArgument(
                    f"affiliate_endpoints[{i}]: larger than {MAX_ENDPOINT} bytes")
        if ttl <= 0:
            raise InvalidArgument("ttl: expected a positive duration")
        expires = self.now() + min(ttl, MAX_TTL)
        cluster = self._clusters.setdefault(cluster_id, {})
        entry = cluster.get(affiliate_id)
        if entry is None:
            if len(cluster) >= MAX_AFFILIATES:
                raise InvalidArgument(f"cluster {cluster_id}: more than {MAX_AFFILIATES} "
                                      "affiliates")
            entry = cluster[affiliate_id] = _Entry()
        before = entry.view(affiliate_id)
        entry.expires = max(entry.expires, expires)
        if data is not None:
            entry.data = data
        for e in endpoints:
            entry.endpoints[e] = expires
        if len(entry.endpoints) > MAX_ENDPOINTS:
            raise InvalidArgument(f"affiliate {affiliate_id}: more than {MAX_ENDPOINTS} "
                                  "endpoints")
        after = entry.view(affiliate_id)
        if after != before:
            self._publish(cluster_id, Change(after))

    def delete(self, cluster_id: str, affiliate_id: str) -> None:
        self.check_ids(cluster_id, affiliate_id)
        cluster = self._clusters.get(cluster_id, {})
        if cluster.pop(affiliate_id, None) is not None:
            self._publish(cluster_id, Change(Affiliate(affiliate_id, b"", ()), deleted=True))
        if not cluster:
            self._clusters.pop(cluster_id, None)

    def affiliates(self, cluster_id: str) -> list[Affiliate]:
        self.check_ids(cluster_id)
        return [e.view(i) for i, e in sorted(self._clusters.get(cluster_id, {}).items())]

    def expire(self) -> int:
        """Drop affiliates (and endpoints) whose TTL ran out; returns how many affiliates
        went away. Watchers see them deleted."""
        now = self.now()
        gone = 0
        for cluster_id, cluster in list(self._clusters.items()):
            for affiliate_id, entry in list(cluster.items()):
                if entry.expires <= now:
                    del cluster[affiliate_id]
                    gone += 1
                    self._publish(cluster_id, Change(Affiliate(affiliate_id, b"", ()),
                                                     deleted=True))
                    continue
                stale = [e for e, t in entry.endpoints.items() if t <= now]
                for e in stale:
                    del entry.endpoints[e]
                if stale:
                    self._publish(cluster_id, Change(entry.view(affiliate_id)))
            if not cluster:
                del self._clusters[cluster_id]
        return gone

    def next_expiry(self) -> float | None:
        times = [t for c in self._clusters.values() for e in c.values()
                 for t in (e.expires, *e.endpoints.values())]
        return min(times) if times else None

    # ---- watching ------------------------------------------------------------------------
    @contextmanager
    def watch(self, cluster_id: str) -> Iterator[tuple[list[Affiliate], asyncio.Queue[Change]]]:
        """The current affiliates and a queue of every change after them."""
        self.check_ids(cluster_id)
        queue: asyncio.Queue[Change] = asyncio.Queue()
        watchers = self._watchers.setdefault(cluster_id, set())
        watchers.add(queue)
        try:
            yield self.affiliates(cluster_id), queue
        finally:
            watchers.discard(queue)
            if not watchers:
                self._watchers.pop(cluster_id, None)

    def _publish(self, cluster_id: str, change: Change) -> None:
        for q in self._watchers.get(cluster_id, ()):
            q.put_nowait(change)
