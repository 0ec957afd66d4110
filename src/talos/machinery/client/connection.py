"""Connections to a node's API (apid on :50000), from a talosconfig context or explicit args.

- mTLS with the context's OS CA and client certificate (roles in its Subject O);
- maintenance mode (`insecure`): TLS without verifying the server and without a client
  certificate, as `talosctl --insecure` does for a node that has no config yet;
- node targeting in metadata: `nodes` (fan-out, one metadata value per node, as Talos's
  client sends it) or `node` (one-to-one);
- errors translated into messages naming the endpoint and the likely cause (stale
  talosconfig / unknown CA, connection refused, no route, maintenance mode).

This is the only machinery module that imports grpc.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import grpc
import grpc.aio
from cryptography import x509
from cryptography.x509.oid import NameOID

from talos.machinery.client.hints import maintenance_node_error
from talos.machinery.client.talosconfig import Context
from talos.machinery.constants import APID_PORT, GRPC_MESSAGE_SIZE_OPTIONS
from talos.machinery.duration import format_go_duration
from talos.machinery.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    TalosError,
    Unauthenticated,
    Unavailable,
)

Metadata = tuple[tuple[str, str], ...]


def endpoint_target(endpoint: str, port: int = APID_PORT) -> str:
    """`host` -> `host:50000`; `host:port` and `[v6]:port` kept; bare IPv6 bracketed."""
    endpoint = endpoint.strip()
    if not endpoint or any(c.isspace() for c in endpoint):
        raise InvalidArgument(f"endpoint {endpoint!r}: expected a host name or IP address")
    if endpoint.startswith("https://"):
        endpoint = endpoint[len("https://"):]
    if endpoint.startswith("["):
        return endpoint if "]:" in endpoint else f"{endpoint}:{port}"
    if endpoint.count(":") == 1:
        return endpoint
    if ":" in endpoint:
        return f"[{endpoint}]:{port}"
    return f"{endpoint}:{port}"


def _host_of(target: str) -> str:
    host = target.rsplit(":", 1)[0]
    return host.strip("[]")


def nodes_metadata(nodes: Sequence[str]) -> Metadata:
    """Fan-out targeting: one `nodes` value per node (empty -> the endpoint node itself)."""
    return tuple(("nodes", n) for n in nodes)


def node_metadata(node: str) -> Metadata:
    """One-to-one targeting of a single node through the endpoint."""
    return (("node", node),)


@dataclass(frozen=True)
class ConnectionOptions:
    endpoints: tuple[str, ...]
    ca_pem: bytes = b""
    crt_pem: bytes = b""
    key_pem: bytes = b""
    insecure: bool = False
    port: int = APID_PORT
    #: maintenance mode: SPKI fingerprints the server's certificate must match (none: any)
    cert_fingerprints: tuple[str, ...] = ()

    @classmethod
    def from_context(cls, ctx: Context, *, endpoints: Sequence[str] = (),
                     insecure: bool = False, port: int = APID_PORT) -> ConnectionOptions:
        eps = tuple(endpoints) or ctx.endpoints
        if insecure:
            return cls(eps, insecure=True, port=port)
        client = ctx.client
        return cls(eps, ctx.ca_pem, client.crt, client.key, port=port)

    def check_server_certificate(self, pem: bytes) -> None:
        """In maintenance mode with `cert_fingerprints`: the certificate must match one."""
        if not self.cert_fingerprints:
            return
        from talos.machinery.pki.fingerprint import spki_fingerprint
        got = spki_fingerprint(pem)
        if got not in self.cert_fingerprints:
            raise Unauthenticated(
                f"{self.target}: the server's certificate fingerprint {got} is not one of "
                f"--cert-fingerprint {', '.join(self.cert_fingerprints)} (another machine "
                "answers at this address, or the node was reset and made a new certificate)")

    def check(self) -> None:
        if not self.endpoints:
            raise InvalidArgument(
                "no endpoints: set them in the talosconfig context (talosctl config endpoint "
                "<ip>) or pass -e/--endpoints")
        if self.insecure:
            return
        missing = [n for n, v in (("ca", self.ca_pem), ("crt", self.crt_pem),
                                  ("key", self.key_pem)) if not v]
        if missing:
            raise InvalidArgument(
                f"the talosconfig context has no {', '.join(missing)}: it cannot authenticate "
                "to a configured node (for a node in maintenance mode use --insecure)")

    @property
    def target(self) -> str:
        """The endpoint used: the first one (see `reachable()` for failover)."""
        return endpoint_target(self.endpoints[0], self.port)

    def reachable(self, timeout: float = 2.0) -> ConnectionOptions:
        """These options with the first endpoint that accepts a TCP connection moved first
        (blocking; `connect()` runs it in a thread). Unchanged when none answers, so the
        RPC error names the first endpoint."""
        if len(self.endpoints) < 2:
            return self
        for i, ep in enumerate(self.endpoints):
            target = endpoint_target(ep, self.port)
            try:
                with socket.create_connection((_host_of(target),
                                               int(target.rsplit(":", 1)[1])), timeout):
                    pass
            except OSError:
                continue
            return replace(self, endpoints=(ep, *self.endpoints[:i], *self.endpoints[i + 1:]))
        return self


#: gRPC's default reconnect backoff waits ~1 s (growing to 120 s) after a refused connection;
#: a node that starts listening a moment later (cluster create, health, reboot waits) is
#: reached 0.1 s after it does, and a down endpoint is retried at least once a second.
RECONNECT_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)


def _options(extra: Sequence[tuple[str, Any]] = ()) -> list[tuple[str, Any]]:
    return [*GRPC_MESSAGE_SIZE_OPTIONS, *RECONNECT_OPTIONS, *extra]


def fetch_server_certificate(target: str, timeout: float = 10.0) -> bytes:
    """The server's certificate, unverified (maintenance mode: nothing to verify it with)."""
    host = _host_of(target)
    port = int(target.rsplit(":", 1)[1])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, \
                ctx.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    except OSError as e:
        raise explain_os_error(e, target) from None
    if not der:
        raise Unavailable(f"{target}: the server presented no certificate")
    return ssl.DER_cert_to_PEM_cert(der).encode()


def _name_in(cert_pem: bytes, fallback: str) -> str:
    """A name the certificate is valid for (grpc checks the server name even when we trust
    the certificate itself)."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for ip in san.get_values_for_type(x509.IPAddress):
            return str(ip)
        for dns in san.get_values_for_type(x509.DNSName):
            return str(dns)
    except x509.ExtensionNotFound:
        pass
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else fallback


def _credentials(opts: ConnectionOptions, server_pem: bytes | None = None
                 ) -> tuple[grpc.ChannelCredentials, list[tuple[str, Any]]]:
    opts.check()
    if opts.insecure:
        pem = server_pem or fetch_server_certificate(opts.target)
        opts.check_server_certificate(pem)
        name = _name_in(pem, _host_of(opts.target))
        return grpc.ssl_channel_credentials(root_certificates=pem), \
            [("grpc.ssl_target_name_override", name)]
    return grpc.ssl_channel_credentials(root_certificates=opts.ca_pem,
                                        private_key=opts.key_pem,
                                        certificate_chain=opts.crt_pem), []


def aio_channel(opts: ConnectionOptions, server_pem: bytes | None = None) -> grpc.aio.Channel:
    """A grpc.aio channel to the first endpoint.

    In maintenance mode the server's certificate is fetched first (a blocking probe): pass it
    as `server_pem`, or use `connect()`, which probes in a thread.
    """
    creds, extra = _credentials(opts, server_pem)
    return grpc.aio.secure_channel(opts.target, creds, options=_options(extra))


def sync_channel(opts: ConnectionOptions) -> grpc.Channel:
    creds, extra = _credentials(opts)
    return grpc.secure_channel(opts.target, creds, options=_options(extra))


class Connection:
    """An async connection to one endpoint; `explain()` turns RPC errors into TalosErrors."""

    def __init__(self, opts: ConnectionOptions, server_pem: bytes | None = None) -> None:
        self.options = opts
        self.endpoint = opts.target
        self.channel = aio_channel(opts, server_pem)

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    def explain(self, error: grpc.RpcError) -> TalosError:
        return explain(error, self.endpoint, insecure=self.options.insecure,
                       client_crt=self.options.crt_pem)


async def connect(opts: ConnectionOptions) -> Connection:
    """A Connection to the first reachable endpoint; probes run in a thread."""
    opts.check()
    opts = await asyncio.to_thread(opts.reachable)
    pem = await asyncio.to_thread(fetch_server_certificate, opts.target) if opts.insecure \
        else None
    return Connection(opts, pem)


class RpcFailed(TalosError):
    """An RPC failure with a code our hierarchy has no class for."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_BY_CODE: dict[str, type[TalosError]] = {
    "INVALID_ARGUMENT": InvalidArgument, "FAILED_PRECONDITION": FailedPrecondition,
    "PERMISSION_DENIED": PermissionDenied, "UNAUTHENTICATED": Unauthenticated,
    "NOT_FOUND": NotFound, "ALREADY_EXISTS": AlreadyExists, "UNAVAILABLE": Unavailable,
}

_TLS_HINTS = ("certificate verify failed", "certificate_verify_failed", "handshake failed",
              "ssl_error", "tls", "x509", "unknown ca", "alert", "wrong version number",
              # the server closing the handshake: usually it wanted a client certificate
              # (--insecure against a configured node) or rejected ours (wrong CA)
              "socket closed")
_REFUSED = ("connection refused", "econnrefused")
_NO_ROUTE = ("no route to host", "network is unreachable", "ehostunreach", "enetunreach")
_NO_NAME = ("dns resolution failed", "name or service not known", "resolution")


def client_certificate_problem(crt_pem: bytes, now: dt.datetime | None = None) -> str:
    """Why no node can accept this client certificate ("" when its validity period covers
    `now`): it expired, or is not valid yet, with the time and how long ago/until."""
    if not crt_pem:
        return ""
    try:
        cert = x509.load_pem_x509_certificate(crt_pem)
    except ValueError:
        return ""
    now = now or dt.datetime.now(dt.UTC)
    after, before = cert.not_valid_after_utc, cert.not_valid_before_utc

    def ago(delta: dt.timedelta) -> str:
        return format_go_duration(float(round(delta.total_seconds())))

    if now > after:
        return (f"the client certificate in your talosconfig expired at "
                f"{after:%Y-%m-%dT%H:%M:%SZ} ({ago(now - after)} ago)")
    if now < before:
        return (f"the client certificate in your talosconfig is not valid before "
                f"{before:%Y-%m-%dT%H:%M:%SZ} (in {ago(before - now)}; is this machine's "
                "clock right?)")
    return ""


_RENEW = ("get a new one: from the cluster's secrets (talosctl gen config --with-secrets "
          "secrets.yaml --output-types talosconfig ...) or from an admin with a valid "
          "talosconfig (talosctl config new --crt-ttl ...)")


_PROXIED_NODE = re.compile(r"node '([^']+)' is unavailable")


def explain(error: grpc.RpcError, endpoint: str, *, insecure: bool = False,
            client_crt: bytes = b"") -> TalosError:
    """A TalosError whose message names the endpoint and the likely cause.

    `client_crt`: the client certificate presented; when a handshake fails and it is
    outside its validity period, that is the cause named (checked after the failure, so a
    node that accepts it anyway is never refused here)."""
    code_obj = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    code = code_obj.name if code_obj is not None else "UNKNOWN"
    details = (error.details() if hasattr(error, "details") else "") or code
    low = details.lower()
    if code in ("UNAVAILABLE", "UNKNOWN") and not insecure:
        proxied = _PROXIED_NODE.search(details)
        if proxied is not None:  # apid could not reach the node it was asked to proxy to
            maintenance = maintenance_node_error(proxied.group(1), details)
            if maintenance:
                return Unavailable(maintenance)
    if code == "UNAVAILABLE":
        if any(h in low for h in _REFUSED):
            return Unavailable(
                f"{endpoint}: connection refused: is the node up and its API listening "
                "there? (a wrong endpoint or port is the usual cause)")
        if any(h in low for h in _NO_ROUTE):
            return Unavailable(f"{endpoint}: no route to the node ({details})")
        if any(h in low for h in _NO_NAME):
            return Unavailable(f"{endpoint}: cannot resolve the endpoint name ({details})")
        if any(h in low for h in _TLS_HINTS):
            if insecure:
                return Unavailable(
                    f"{endpoint}: TLS handshake failed in maintenance mode (--insecure); the "
                    "node is probably configured already: drop --insecure and use your "
                    f"talosconfig ({details})")
            expired = client_certificate_problem(client_crt)
            if expired:
                return Unavailable(f"{endpoint}: TLS handshake failed: {expired}, so the node "
                                   f"refuses it; {_RENEW} [{details}]")
            return Unavailable(
                f"{endpoint}: TLS handshake failed: the node's certificate is not signed by "
                "the CA in your talosconfig (x509: certificate signed by unknown authority), "
                "or it did not accept your client certificate. The talosconfig is probably "
                "stale (from an earlier cluster): use the one generated with this cluster's "
                "secrets. If the node has no config yet (maintenance mode), use --insecure. "
                f"[{details}]")
        return Unavailable(f"{endpoint}: unavailable: {details}")
    if code == "DEADLINE_EXCEEDED":
        return RpcFailed(code, f"{endpoint}: timed out waiting for the node ({details})")
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(details)
    return RpcFailed(code, f"rpc error: code = {code.title().replace('_', '')} desc = {details}")


def explain_os_error(e: OSError, target: str) -> TalosError:
    if isinstance(e, ConnectionRefusedError):
        return Unavailable(f"{target}: connection refused: is the node up and its API "
                           "listening there?")
    if isinstance(e, socket.timeout | TimeoutError):
        return Unavailable(f"{target}: timed out connecting to the node")
    if isinstance(e, ssl.SSLError):
        return Unavailable(f"{target}: TLS handshake failed: {e}")
    return Unavailable(f"{target}: cannot connect: {e.strerror or e}")




async def request_certificate(endpoint: str, *, token: str, csr_pem: bytes, ca_pem: bytes,
                              port: int = 50001, rpc_timeout: float = 30.0
                              ) -> tuple[bytes, bytes]:
    """Ask a control plane's trustd to sign `csr_pem` (a worker's apid identity).

    trustd is verified with the OS CA (`ca_pem`, from the worker's config); the trust token
    travels in the `token` metadata. Returns (CA PEM, signed certificate PEM).
    """
    from talos.api.security import security_pb2, security_pb2_grpc

    target = endpoint_target(endpoint, port)
    creds = grpc.ssl_channel_credentials(root_certificates=ca_pem)
    async with grpc.aio.secure_channel(target, creds, options=_options()) as channel:
        stub = security_pb2_grpc.SecurityServiceStub(channel)
        try:
            reply = await stub.Certificate(security_pb2.CertificateRequest(csr=csr_pem),
                                           metadata=(("token", token),), timeout=rpc_timeout)
        except grpc.RpcError as e:
            raise explain(e, target) from None
    return bytes(reply.ca), bytes(reply.crt)
