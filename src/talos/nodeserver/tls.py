"""A grpc.aio server on TLS: server certificate, optional required client certificates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from talos.machinery.constants import GRPC_MESSAGE_SIZE_OPTIONS
from talos.machinery.errors import Unavailable


@dataclass(frozen=True)
class TlsListener:
    """Where and how a node server listens. `name` starts every error message."""

    name: str
    listen: str
    cert_pem: bytes
    key_pem: bytes
    #: PEM CA that client certificates must chain to; None: no client certificate asked for
    client_ca_pem: bytes | None = None


async def start_tls_server(listener: TlsListener, register: Callable[[grpc.aio.Server], None],
                           *, options: Sequence[tuple[str, Any]] = (),
                           interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
                           maximum_concurrent_rpcs: int | None = None
                           ) -> tuple[grpc.aio.Server, int]:
    """Build, register services (`register(server)`), listen and start; (server, port).

    A port that cannot be bound (in use, an address not on this node, a malformed address)
    is `Unavailable` naming the server and the address, never a bare RuntimeError or a
    silent port 0.
    """
    opts = list(options)
    opts += [o for o in GRPC_MESSAGE_SIZE_OPTIONS if o[0] not in dict(opts)]
    if not any(k == "grpc.so_reuseport" for k, _ in opts):
        opts.append(("grpc.so_reuseport", 0))  # a second server never silently shares a port
    server = grpc.aio.server(interceptors=list(interceptors) or None, options=opts,
                             maximum_concurrent_rpcs=maximum_concurrent_rpcs)
    register(server)
    creds = grpc.ssl_server_credentials(
        [(listener.key_pem, listener.cert_pem)], root_certificates=listener.client_ca_pem,
        require_client_auth=listener.client_ca_pem is not None)
    where = f"{listener.name}: cannot listen on {listener.listen}"
    try:
        port = server.add_secure_port(listener.listen, creds)
    except RuntimeError as e:
        raise Unavailable(f"{where}: {e}") from None
    if port == 0:
        raise Unavailable(f"{where} (the address is in use or not an address of this node)")
    await server.start()
    return server, port


class TlsServer:
    """One started-or-not TLS gRPC server: `start()` -> port, `stop()`, `serve()`."""

    def __init__(self, listener: TlsListener, register: Callable[[grpc.aio.Server], None], *,
                 options: Sequence[tuple[str, Any]] = (),
                 interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
                 maximum_concurrent_rpcs: int | None = None) -> None:
        self.listener = listener
        self._register = register
        self._options = tuple(options)
        self._interceptors = tuple(interceptors)
        self._max_rpcs = maximum_concurrent_rpcs
        self._server: grpc.aio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        self._server, self.port = await start_tls_server(
            self.listener, self._register, options=self._options,
            interceptors=self._interceptors, maximum_concurrent_rpcs=self._max_rpcs)
        return self.port

    async def stop(self, grace: float | None = 1.0) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop(grace)

    async def wait(self) -> None:
        """Until the server terminates (after `stop()`)."""
        if self._server is not None:
            await self._server.wait_for_termination()
