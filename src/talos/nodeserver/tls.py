"""A grpc.aio server on TLS: server certificate, optional required client certificates.

A listener given the files its certificate and key came from (`CertificateFiles`) serves
whatever they hold now: each new connection's handshake first checks the files (one `stat`
each) and, once they changed and the key matches the certificate, presents the new pair
(`grpc.dynamic_ssl_server_credentials`; works with `grpc.aio` servers, measured with grpcio
1.85). Connections already open keep the certificate they were made with. This is how
apid and trustd follow the node certificate machined re-issues when the node's addresses
change (`machined/services/identity.py`), as upstream Talos's apid does, with no restart.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from talos.machinery.constants import GRPC_MESSAGE_SIZE_OPTIONS
from talos.machinery.errors import TalosError, Unavailable
from talos.machinery.pki import CertificateAndKey

log = logging.getLogger("talos.nodeserver.tls")


@dataclass(frozen=True)
class CertificateFiles:
    """The PEM files a server's certificate and key are read from (again when they change).

    Whoever replaces them writes the key first, then the certificate, each atomically; a
    reader that still sees a key that does not match the certificate (a replacement under
    way) keeps serving the previous pair and looks again at the next handshake.
    """

    cert: str
    key: str


@dataclass(frozen=True)
class TlsListener:
    """Where and how a node server listens. `name` starts every error message."""

    name: str
    listen: str
    cert_pem: bytes
    key_pem: bytes
    #: PEM CA that client certificates must chain to; None: no client certificate asked for
    client_ca_pem: bytes | None = None
    #: where `cert_pem`/`key_pem` came from: new connections get the files' pair once they
    #: change; None: the pair is fixed for the server's life
    files: CertificateFiles | None = None


def _signature(path: str) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


class CertificateReloader:
    """The certificate fetcher of a listener with `files` (called by gRPC's own threads
    before each handshake, so it never touches the event loop and never raises)."""

    def __init__(self, listener: TlsListener, files: CertificateFiles) -> None:
        self.listener = listener
        self.files = files
        self._lock = threading.Lock()
        self._seen = self._signatures()
        #: the pair new connections get (tests and logs read it)
        self.cert_pem = listener.cert_pem

    def _signatures(self) -> tuple[tuple[int, int, int, int], ...] | None:
        try:
            return _signature(self.files.cert), _signature(self.files.key)
        except OSError:
            return None  # gone for now (being replaced): keep the pair we have

    def configuration(self, cert_pem: bytes, key_pem: bytes) -> Any:
        return grpc.ssl_server_certificate_configuration(
            [(key_pem, cert_pem)], root_certificates=self.listener.client_ca_pem)

    def __call__(self) -> Any:
        with self._lock:
            seen = self._signatures()
            if seen is None or seen == self._seen:
                return None
            try:
                with open(self.files.cert, "rb") as f:
                    cert_pem = f.read()
                with open(self.files.key, "rb") as f:
                    key_pem = f.read()
                CertificateAndKey(cert_pem, key_pem).check(path=self.listener.name)
            except (OSError, TalosError):
                return None  # mid-replacement (or broken): the next handshake looks again
            if self._signatures() != seen:
                return None  # replaced while we read: read the settled files next time
            self._seen = seen
            if cert_pem == self.cert_pem:
                return None
            self.cert_pem = cert_pem
            log.info("%s: new connections get the new certificate from %s",
                     self.listener.name, self.files.cert)
            return self.configuration(cert_pem, key_pem)


def server_credentials(listener: TlsListener) -> tuple[grpc.ServerCredentials,
                                                       CertificateReloader | None]:
    """The listener's credentials; with `files`, also the reloader that follows them."""
    require = listener.client_ca_pem is not None
    if listener.files is None:
        return grpc.ssl_server_credentials(
            [(listener.key_pem, listener.cert_pem)], root_certificates=listener.client_ca_pem,
            require_client_auth=require), None
    reloader = CertificateReloader(listener, listener.files)
    creds = grpc.dynamic_ssl_server_credentials(
        reloader.configuration(listener.cert_pem, listener.key_pem), reloader,
        require_client_authentication=require)
    return creds, reloader


async def start_tls_server(listener: TlsListener, register: Callable[[grpc.aio.Server], None],
                           *, options: Sequence[tuple[str, Any]] = (),
                           interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
                           maximum_concurrent_rpcs: int | None = None,
                           credentials: grpc.ServerCredentials | None = None
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
    creds = credentials if credentials is not None else server_credentials(listener)[0]
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
        #: follows `listener.files` once started (None without files)
        self.reloader: CertificateReloader | None = None

    async def start(self) -> int:
        creds, self.reloader = server_credentials(self.listener)
        self._server, self.port = await start_tls_server(
            self.listener, self._register, options=self._options,
            interceptors=self._interceptors, maximum_concurrent_rpcs=self._max_rpcs,
            credentials=creds)
        return self.port

    async def stop(self, grace: float | None = 1.0) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop(grace)

    async def wait(self) -> None:
        """Until the server terminates (after `stop()`)."""
        if self._server is not None:
            await self._server.wait_for_termination()
