"""The node's API identity: the OS CA and this node's apid certificate, from the machine config.

Control planes hold the OS CA key (`machine.ca.key`) and issue their own certificate; workers
have only the CA certificate and ask a control plane's trustd (at the host of
`cluster.controlPlane.endpoint`, port 50001) to sign a CSR, presenting `machine.token`.
The certificate names the node's addresses (every address of the node but loopback and
link-local, as `NodeAddress current` lists them; 127.0.0.1; `machine.certSANs`; the
hostname) and carries `os:impersonator` so it also identifies the node to other nodes'
apids. Files land in `/system/run/apid` (tmpfs: never persisted).

It is issued as the precondition of every start of apid/trustd, and issued again while they
run whenever those names change (`refresh_identity`, driven by `secrets.APIController`):
apid and trustd read the files again for new connections (`nodeserver/tls.py`), as upstream
Talos v1.13.9's `secrets.APIController` and apid's reloading TLS config do. Upstream names
every address seen since boot (`NodeAddress accumulative`); here the addresses the node has
now, so the certificate a handshake presents always equals what the node would issue.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import io
import ipaddress
import logging
import os
import socket
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psutil
from cryptography import x509
from ruamel.yaml import YAML

from talos.machined.controllers.config_tree import documents
from talos.machined.controllers.network.node_address import current_prefixes
from talos.machinery.atomic import write_atomic
from talos.machinery.constants import ROLE_IMPERSONATOR
from talos.machinery.errors import FailedPrecondition, InvalidConfig, Problem, TalosError
from talos.machinery.pki import (
    CertificateAndKey,
    CertificateAuthority,
    IssueOptions,
    load_certificate,
    new_csr,
    new_private_key,
    private_key_to_pem,
)

log = logging.getLogger("talos.machined.identity")

#: how long a node's own certificate lives (re-issued at every boot)
NODE_CERT_TTL = dt.timedelta(days=365)


@dataclass(frozen=True)
class IdentityConfig:
    """What the machine config says about the node's API identity."""

    machine_type: str
    ca_crt: bytes
    ca_key: bytes
    token: str
    endpoint_host: str
    cert_sans: tuple[str, ...]
    hostname: str

    @property
    def controlplane(self) -> bool:
        return self.machine_type in ("controlplane", "init")


def _b64(value: Any, path: str) -> bytes:
    if not value:
        return b""
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidConfig([Problem(path, "not valid base64")]) from None


def identity_config(raw: bytes, hostname: str = "") -> IdentityConfig:
    try:  # parsed once per config text, shared with the controllers (see config_tree)
        loaded = documents(raw.decode())
    except UnicodeDecodeError:
        loaded = list(YAML(typ="safe").load_all(io.BytesIO(raw)))
    docs = [d for d in loaded if isinstance(d, dict)]
    main = next((d for d in docs if d.get("version") == "v1alpha1"), {})
    machine = main.get("machine") or {}
    cluster = main.get("cluster") or {}
    ca = machine.get("ca") or {}
    endpoint = str((cluster.get("controlPlane") or {}).get("endpoint") or "")
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    return IdentityConfig(
        machine_type=str(machine.get("type") or ""),
        ca_crt=_b64(ca.get("crt"), "machine.ca.crt"),
        ca_key=_b64(ca.get("key"), "machine.ca.key"),
        token=str(machine.get("token") or ""),
        endpoint_host=host,
        cert_sans=tuple(str(s) for s in machine.get("certSANs") or ()),
        hostname=hostname,
    )


def node_addresses() -> list[str]:
    """Non-loopback IPv4 addresses of this node (its network namespace)."""
    out = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                out.append(a.address)
    return sorted(set(out))


async def wait_for_address(poll: float = 0.05) -> None:
    """Pre-condition of apid/trustd: the node has an address (its network is configured)."""
    while True:  # kernel state with no event to wait on here: poll it
        if await asyncio.to_thread(node_addresses):
            return
        await asyncio.sleep(poll)


def certificate_addresses() -> list[str]:
    """The addresses the node certificate names now: the kernel's, as `NodeAddress current`
    lists them (without the prefix length)."""
    return [p.split("/", 1)[0] for p in current_prefixes()]


#: (DNS names, IP addresses) a certificate names
Names = tuple[tuple[str, ...], tuple[Any, ...]]


def certificate_names(cfg: IdentityConfig, addresses: Sequence[str]) -> Names:
    """What the node certificate names, given the node's `addresses`."""
    dns: list[str] = []
    ips: list[Any] = []
    for san in (*addresses, "127.0.0.1", *cfg.cert_sans, cfg.hostname):
        if not san:
            continue
        try:
            ip = ipaddress.ip_address(san)
        except ValueError:
            if san not in dns:
                dns.append(san)
            continue
        if ip not in ips:
            ips.append(ip)
    return tuple(dns), tuple(ips)


def names_of(cert_pem: bytes) -> Names:
    """The DNS names and IP addresses a PEM certificate names."""
    cert = load_certificate(cert_pem, what="node certificate")
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return (), ()
    return (tuple(san.get_values_for_type(x509.DNSName)),
            tuple(san.get_values_for_type(x509.IPAddress)))


def _same(a: Names, b: Names) -> bool:
    return set(a[0]) == set(b[0]) and set(a[1]) == set(b[1])


#: one issuer at a time per directory (the precondition of a (re)starting service and
#: `refresh_identity` both write there), so the key and certificate on disk always match
_LOCKS: dict[str, asyncio.Lock] = {}


def _lock(files: IdentityFiles) -> asyncio.Lock:
    return _LOCKS.setdefault(os.path.realpath(files.directory), asyncio.Lock())


@dataclass(frozen=True)
class IdentityFiles:
    directory: str

    @property
    def ca(self) -> str:
        return os.path.join(self.directory, "ca.crt")

    @property
    def ca_key(self) -> str:
        return os.path.join(self.directory, "ca.key")

    @property
    def cert(self) -> str:
        return os.path.join(self.directory, "node.crt")

    @property
    def key(self) -> str:
        return os.path.join(self.directory, "node.key")

    @property
    def token(self) -> str:
        return os.path.join(self.directory, "token")


async def obtain_identity(cfg: IdentityConfig, files: IdentityFiles,
                          retry_every: float = 0.1) -> None:
    """Pre-condition of apid/trustd: the node has an address and a certificate naming it.

    A worker retries its request until a control plane's trustd signs it (trustd may still
    be starting: a refused connection is cheap, so it retries every 0.1 s and gets its
    certificate right after trustd listens); the first failure and then every 50th (every
    ~5 s) is logged at INFO.
    """
    await wait_for_address()
    attempt = 0
    while True:
        try:
            await issue_identity(cfg, files)
            return
        except TalosError as e:
            if cfg.controlplane:
                raise
            if attempt % 50 == 0:
                log.info("waiting for a certificate from trustd at %s:50001: %s",
                         cfg.endpoint_host, e)
            attempt += 1
        await asyncio.sleep(retry_every)


async def issue_identity(cfg: IdentityConfig, files: IdentityFiles,
                         addresses: Sequence[str] | None = None) -> None:
    """Write the CA and a fresh node certificate + key into `files` (CP: self-issued;
    worker: signed by a control plane's trustd), naming `addresses` (default: the node's
    addresses now)."""
    if addresses is None:
        addresses = await asyncio.to_thread(certificate_addresses)
    async with _lock(files):
        await _issue(cfg, files, certificate_names(cfg, addresses))


async def refresh_identity(cfg: IdentityConfig, files: IdentityFiles,
                           addresses: Sequence[str]) -> bool:
    """Issue the node certificate in `files` again if it does not name exactly what it
    should for `addresses` (and `cfg`'s certSANs and hostname); True when it did.

    Only a certificate already there is followed: with none, its service has not obtained
    one yet (or does not run here), and its precondition issues it.
    """
    wanted = certificate_names(cfg, addresses)
    async with _lock(files):
        try:
            current = await asyncio.to_thread(_read, files.cert)
        except FileNotFoundError:
            return False
        if _same(names_of(current), wanted):
            return False
        await _issue(cfg, files, wanted)
        return True


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


async def _issue(cfg: IdentityConfig, files: IdentityFiles, names: Names) -> None:
    if not cfg.ca_crt:
        raise FailedPrecondition("machine.ca.crt is empty: the node cannot serve its API")
    dns, ips = names
    cn = dns[0] if dns else str(ips[0])
    if cfg.controlplane:
        if not cfg.ca_key:
            raise FailedPrecondition("machine.ca.key is empty on a control plane")
        ca = CertificateAuthority.from_pem(CertificateAndKey(cfg.ca_crt, cfg.ca_key),
                                           what="machine.ca")
        pair = ca.issue_key_pair(IssueOptions(
            common_name=cn, organizations=(ROLE_IMPERSONATOR,), dns_names=dns,
            ip_addresses=ips, ttl=NODE_CERT_TTL, server=True, client=True))
        crt, key = pair.crt, pair.key
    else:
        from talos.machinery.client.connection import request_certificate

        if not cfg.endpoint_host:
            raise FailedPrecondition("cluster.controlPlane.endpoint has no host: a worker "
                                     "cannot reach trustd")
        private = new_private_key("ecdsa")
        csr = new_csr(private, common_name=cn, organizations=(ROLE_IMPERSONATOR,),
                      dns_names=dns, ip_addresses=ips)
        from cryptography.hazmat.primitives.serialization import Encoding

        _, crt = await request_certificate(
            cfg.endpoint_host, token=cfg.token, csr_pem=csr.public_bytes(Encoding.PEM),
            ca_pem=cfg.ca_crt, rpc_timeout=10.0)
        key = private_key_to_pem(private)

    def write() -> None:
        os.makedirs(files.directory, mode=0o700, exist_ok=True)
        write_atomic(files.ca, cfg.ca_crt, mode=0o644)
        # the key first: a reader that sees the new certificate finds its key there; one
        # reading between the two sees a mismatch and keeps its pair (nodeserver/tls.py)
        write_atomic(files.key, key, mode=0o600)
        write_atomic(files.cert, crt, mode=0o644)
        if cfg.controlplane:
            write_atomic(files.ca_key, cfg.ca_key, mode=0o600)
            write_atomic(files.token, cfg.token, mode=0o600)
    await asyncio.to_thread(write)
