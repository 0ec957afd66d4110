"""Channels apid forwards to: the local machined (unix socket) and other nodes' apids."""

from __future__ import annotations

from collections import OrderedDict

import grpc

from talos.apid.route import target_address

#: Talos's gRPC message size limit (32 MiB).
MAX_MESSAGE = 32 << 20
CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.max_send_message_length", MAX_MESSAGE),
)
#: Remote channels kept open; beyond this the least recently used is closed.
MAX_REMOTE_CHANNELS = 256


class Backends:
    def __init__(self, local_socket: str, *, ca_pem: bytes, cert_pem: bytes, key_pem: bytes,
                 remote_port: int) -> None:
        self.local_target = f"unix:{local_socket}"
        self.remote_port = remote_port
        self._creds = grpc.ssl_channel_credentials(
            root_certificates=ca_pem, private_key=key_pem, certificate_chain=cert_pem)
        self._local: grpc.aio.Channel | None = None
        self._remote: OrderedDict[str, grpc.aio.Channel] = OrderedDict()
        self._retired: list[grpc.aio.Channel] = []

    def local(self) -> grpc.aio.Channel:
        if self._local is None:
            self._local = grpc.aio.insecure_channel(self.local_target, options=CHANNEL_OPTIONS)
        return self._local

    def remote(self, node: str) -> grpc.aio.Channel:
        ch = self._remote.get(node)
        if ch is not None:
            self._remote.move_to_end(node)
            return ch
        ch = grpc.aio.secure_channel(target_address(node, self.remote_port), self._creds,
                                     options=CHANNEL_OPTIONS)
        self._remote[node] = ch
        if len(self._remote) > MAX_REMOTE_CHANNELS:
            # Calls in flight on it keep their own reference; it is closed at shutdown.
            _, old = self._remote.popitem(last=False)
            self._retired.append(old)
        return ch

    async def close(self) -> None:
        channels = [*self._remote.values(), *self._retired]
        if self._local is not None:
            channels.append(self._local)
        self._remote.clear()
        self._retired.clear()
        self._local = None
        for ch in channels:
            await ch.close()
