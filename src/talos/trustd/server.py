"""trustd: signs a node's CSR into an OS-CA certificate for holders of the trust token.

The token travels in the `token` metadata (as Talos's trustd client sends it) and is
compared in constant time. A wrong or missing token gets UNAUTHENTICATED; after 5 failures
from one peer within a minute, that peer is refused (RESOURCE_EXHAUSTED) for a minute.
Only `os:impersonator` (a node's apid identity) may be requested: a token holder cannot
mint administrator certificates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

import grpc

from talos.api.security import security_pb2, security_pb2_grpc
from talos.machinery import role
from talos.machinery.constants import TRUSTD_PORT
from talos.machinery.errors import (
    InvalidArgument,
    PermissionDenied,
    TalosError,
    Unauthenticated,
)
from talos.machinery.pki import (
    CLIENT_CERT_VALIDITY,
    CertificateAndKey,
    CertificateAuthority,
    certificate_to_pem,
    load_csr,
    organizations_of,
    require_grpc_capable,
)
from talos.nodeserver.boundary import Boundary
from talos.nodeserver.tls import CertificateFiles, TlsListener, TlsServer
from talos.trustd.ratelimit import FailureLimiter

TOKEN_METADATA_KEY = "token"
ALLOWED_ORGANIZATIONS = frozenset({role.IMPERSONATOR})


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def peer_host(peer: str) -> str:
    """`ipv4:1.2.3.4:5678` / `ipv6:[::1]:5678` / `unix:...` -> the address without port."""
    kind, _, rest = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        host = rest.rsplit(":", 1)[0]
        return host.strip("[]")
    return peer


@dataclass
class TrustdSettings:
    os_ca: CertificateAuthority
    serving: CertificateAndKey
    token: str
    listen: str = f"0.0.0.0:{TRUSTD_PORT}"
    cert_ttl: dt.timedelta = CLIENT_CERT_VALIDITY
    limiter: FailureLimiter = field(default_factory=FailureLimiter)
    #: where `serving` came from: new connections get the pair machined re-issues there
    #: (see nodeserver/tls.py); None: fixed
    serving_files: CertificateFiles | None = None


class SecurityService(security_pb2_grpc.SecurityServiceServicer):
    def __init__(self, settings: TrustdSettings) -> None:
        self.settings = settings
        self._expected = _digest(settings.token)

    def _authenticate(self, metadata: Sequence[tuple[str, str | bytes]], peer: str) -> None:
        limiter = self.settings.limiter
        wait = limiter.retry_after(peer)
        if wait > 0:
            raise TooManyFailures(
                f"too many failed token attempts from {peer}; retry in {int(wait) + 1}s")
        tokens = [v for k, v in metadata if k == TOKEN_METADATA_KEY and isinstance(v, str)]
        presented = tokens[0] if tokens else ""
        if not hmac.compare_digest(self._expected, _digest(presented)) or not tokens:
            limiter.failed(peer)
            raise Unauthenticated("missing token" if not tokens else "invalid token")
        limiter.succeeded(peer)

    def _sign(self, csr_pem: bytes) -> security_pb2.CertificateResponse:
        if not csr_pem:
            raise InvalidArgument("csr: empty (expected a PEM certificate signing request)")
        csr = load_csr(csr_pem, what="csr")
        orgs = set(organizations_of(csr))
        if not orgs <= ALLOWED_ORGANIZATIONS:
            raise PermissionDenied(
                f"csr: organizations {sorted(orgs - ALLOWED_ORGANIZATIONS)} may not be "
                f"requested from trustd (only {role.IMPERSONATOR})")
        cert = self.settings.os_ca.sign_csr(csr, ttl=self.settings.cert_ttl,
                                            server=True, client=True)
        return security_pb2.CertificateResponse(
            ca=certificate_to_pem(self.settings.os_ca.cert), crt=certificate_to_pem(cert))

    async def Certificate(self, request: security_pb2.CertificateRequest,
                          context: grpc.aio.ServicerContext) -> security_pb2.CertificateResponse:
        self._authenticate(tuple(context.invocation_metadata() or ()),
                           peer_host(context.peer()))
        return self._sign(request.csr)


class TooManyFailures(TalosError):
    code = "RESOURCE_EXHAUSTED"


class TrustdServer:
    def __init__(self, settings: TrustdSettings) -> None:
        require_grpc_capable(settings.os_ca.cert)
        if not settings.token:
            raise InvalidArgument("trustd: the trust token is empty")
        self.settings = settings
        self._tls = TlsServer(
            TlsListener("trustd", settings.listen, settings.serving.crt, settings.serving.key,
                        files=settings.serving_files),
            lambda server: security_pb2_grpc.add_SecurityServiceServicer_to_server(
                SecurityService(settings), server),
            interceptors=[Boundary()])

    @property
    def port(self) -> int:
        return self._tls.port

    async def start(self) -> int:
        return await self._tls.start()

    async def stop(self, grace: float | None = 1.0) -> None:
        await self._tls.stop(grace)
