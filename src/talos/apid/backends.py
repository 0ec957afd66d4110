"""Channels apid forwards to: the local machined (unix socket) and other nodes' apids.

A node named in `node`/`nodes` that is this apid itself (one of the addresses or names in its
certificate, or the address it listens on, at its own port) is served over the local channel
instead of a TLS round trip to itself: the same roles, one hop less.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

import grpc

from talos.apid.route import split_host_port, target_address
from talos.machinery.constants import GRPC_MESSAGE_SIZE_OPTIONS

#: Reconnect backoff: gRPC's defaults wait ~1 s (then up to 120 s) after a refused
#: connection, so a node whose apid comes up a moment after the first call stays "down" for
#: a second or more. A refused TCP connect is cheap: retry after 0.1 s, then at least once
#: a second.
RECONNECT_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)
CHANNEL_OPTIONS = (
    *GRPC_MESSAGE_SIZE_OPTIONS,
    *RECONNECT_OPTIONS,
)
#: The channel to machined over its unix socket: without gRPC's retry machinery, which
#: costs ~25 µs of CPU per call (8% of a unix-socket round trip, bench: `api`); what it
#: would retry transparently (a call that never left apid) only happens there while machined
#: itself restarts, when the call fails UNAVAILABLE either way once it is gone.
LOCAL_CHANNEL_OPTIONS = (
    *CHANNEL_OPTIONS,
    ("grpc.enable_retries", 0),
)
#: Remote channels kept open; beyond this the least recently used is closed.
MAX_REMOTE_CHANNELS = 256
#: Seconds an evicted channel's calls may still run before it is closed.
CLOSE_GRACE = 30.0


class Backends:
    def __init__(self, local_socket: str, *, ca_pem: bytes, cert_pem: bytes, key_pem: bytes,
                 remote_port: int, local_names: frozenset[str] = frozenset()) -> None:
        self.local_target = f"unix:{local_socket}"
        self.remote_port = remote_port
        #: names of this node (lower-case hosts) and the port this apid serves on (set once
        #: it listens); 0 = unknown, nothing is treated as local
        self.local_names = local_names
        self.local_port = 0
        self._creds = grpc.ssl_channel_credentials(
            root_certificates=ca_pem, private_key=key_pem, certificate_chain=cert_pem)
        self._local: grpc.aio.Channel | None = None
        self._remote: OrderedDict[str, grpc.aio.Channel] = OrderedDict()
        #: evicted channels closing (after their calls finish, at most CLOSE_GRACE seconds);
        #: owned here and awaited by close()
        self._closing: set[asyncio.Task[None]] = set()

    def local(self) -> grpc.aio.Channel:
        if self._local is None:
            self._local = grpc.aio.insecure_channel(self.local_target,
                                                   options=LOCAL_CHANNEL_OPTIONS)
        return self._local

    def is_local(self, node: str) -> bool:
        """Whether `node` names this very apid (so the call can go to machined directly)."""
        if not self.local_port:
            return False
        host, port = split_host_port(node)
        return host.lower() in self.local_names and (port or self.remote_port) == self.local_port

    def channel_for(self, node: str) -> grpc.aio.Channel:
        return self.local() if self.is_local(node) else self.remote(node)

    def remote(self, node: str) -> grpc.aio.Channel:
        ch = self._remote.get(node)
        if ch is not None:
            self._remote.move_to_end(node)
            return ch
        ch = grpc.aio.secure_channel(target_address(node, self.remote_port), self._creds,
                                     options=CHANNEL_OPTIONS)
        self._remote[node] = ch
        if len(self._remote) > MAX_REMOTE_CHANNELS:
            _, old = self._remote.popitem(last=False)
            task = asyncio.get_running_loop().create_task(old.close(CLOSE_GRACE))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        return ch

    async def close(self) -> None:
        channels = list(self._remote.values())
        if self._local is not None:
            channels.append(self._local)
        self._remote.clear()
        self._local = None
        for ch in channels:
            await ch.close()
        if self._closing:
            await asyncio.gather(*self._closing)
