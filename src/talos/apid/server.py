"""apid: the mTLS gateway of a node (client certificate required, OS CA)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from talos.apid.backends import CHANNEL_OPTIONS, Backends
from talos.apid.proxy import Proxy
from talos.apid.route import split_host_port
from talos.machinery import role
from talos.machinery.constants import APID_PORT, MACHINED_SOCKET
from talos.machinery.errors import InvalidArgument
from talos.machinery.pki import (
    CertificateAndKey,
    load_certificate,
    organizations_of,
    require_grpc_capable,
)
from talos.nodeserver.process import read_file
from talos.nodeserver.tls import CertificateFiles, TlsListener, TlsServer

#: Metadata up to 64 KiB reaches apid, so oversized routing metadata (e.g. 1,000 nodes) gets
#: a clear INVALID_ARGUMENT from the router rather than gRPC's RESOURCE_EXHAUSTED.
SERVER_OPTIONS = (*CHANNEL_OPTIONS, ("grpc.max_metadata_size", 64 << 10),
                  ("grpc.absolute_max_metadata_size", 80 << 10))


@dataclass(frozen=True)
class ApidSettings:
    """Everything apid needs. PEMs: the OS CA, and this node's apid certificate + key.

    The certificate serves TLS and is also the client certificate towards other nodes'
    apids, so it must carry `os:impersonator` in its Subject Organization and both server
    and client usages.
    """

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes
    listen: str = f"0.0.0.0:{APID_PORT}"
    backend_socket: str = MACHINED_SOCKET
    remote_port: int = APID_PORT
    max_concurrent_rpcs: int | None = None
    #: where cert/key came from: new connections get the pair machined re-issues there
    #: (see nodeserver/tls.py); None: fixed
    files: CertificateFiles | None = None

    @classmethod
    def from_files(cls, *, ca: str | Path, cert: str | Path, key: str | Path,
                   **kwargs: object) -> ApidSettings:
        return cls(read_file(ca, "CA file"), read_file(cert, "certificate file"),
                   read_file(key, "key file"), files=CertificateFiles(str(cert), str(key)),
                   **kwargs)  # type: ignore[arg-type]

    def check(self) -> None:
        ca = load_certificate(self.ca_pem, what="OS CA")
        require_grpc_capable(ca)
        cert = load_certificate(self.cert_pem, what="apid certificate")
        require_grpc_capable(cert, what="the apid certificate")
        if role.IMPERSONATOR not in organizations_of(cert):
            raise InvalidArgument(
                "apid certificate: its Subject Organization must include "
                f"{role.IMPERSONATOR!r} (it is also the client certificate towards other "
                "nodes' apids, which accept the caller's roles only from impersonators)")
        CertificateAndKey(self.cert_pem, self.key_pem).check(path="apid certificate")

    def local_names(self) -> frozenset[str]:
        """The names this node answers to: its certificate's DNS names and IP addresses, and
        the address apid listens on unless it is a wildcard."""
        cert = load_certificate(self.cert_pem, what="apid certificate")
        names: set[str] = set()
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names.update(str(n).lower() for n in san.get_values_for_type(x509.DNSName))
            names.update(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
        except x509.ExtensionNotFound:
            pass
        host, _ = split_host_port(self.listen)
        if host not in ("", "0.0.0.0", "::", "[::]"):
            names.add(host.lower())
        return frozenset(names)


class ApidServer:
    def __init__(self, settings: ApidSettings) -> None:
        settings.check()
        self.settings = settings
        self.backends = Backends(settings.backend_socket, ca_pem=settings.ca_pem,
                                 cert_pem=settings.cert_pem, key_pem=settings.key_pem,
                                 remote_port=settings.remote_port,
                                 local_names=settings.local_names())
        self._tls = TlsServer(
            TlsListener("apid", settings.listen, settings.cert_pem, settings.key_pem,
                        client_ca_pem=settings.ca_pem, files=settings.files),
            lambda server: server.add_generic_rpc_handlers([Proxy(self.backends)]),
            options=SERVER_OPTIONS, maximum_concurrent_rpcs=settings.max_concurrent_rpcs)

    @property
    def port(self) -> int:
        return self._tls.port

    async def start(self) -> int:
        port = await self._tls.start()
        self.backends.local_port = port
        return port

    async def stop(self, grace: float | None = 1.0) -> None:
        await self._tls.stop(grace)
        await self.backends.close()

    async def serve(self, ready: asyncio.Event | None = None) -> None:
        """Run until cancelled (then stop gracefully)."""
        await self.start()
        if ready is not None:
            ready.set()
        try:
            await self._tls.wait()
        finally:
            await asyncio.shield(self.stop())
