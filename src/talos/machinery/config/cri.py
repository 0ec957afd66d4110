"""The registry view of a machine config: mirrors, auth and TLS per registry host, from
`machine.registries` and from the `RegistryMirrorConfig` / `RegistryAuthConfig` /
`RegistryTLSConfig` documents, combined as upstream siderolabs/talos v1.13.9 does
(pkg/machinery/config/container/container.go `RegistryMirrorConfigs`,
`RegistryAuthConfigs`, `RegistryTLSConfigs`):

- the v1alpha1 maps come first (`machine.registries.mirrors.<host>`,
  `machine.registries.config.<host>.auth`, `.tls`);
- a document then sets its `name`'s entry whole, replacing the v1alpha1 one of the same kind
  (a `RegistryAuthConfig` for a host replaces only that host's auth, not its TLS); upstream
  forbids no mix of the two.

The forms differ: v1alpha1's TLS `ca` / `clientIdentity.crt` / `.key` are base64 of PEM,
the document's `ca` / `clientIdentity.cert` / `.key` are PEM text; a v1alpha1 mirror's
`overridePath` applies to all its endpoints, a document's is per endpoint.

Every entry keeps `source`, the config path it came from, so an error about it names the
field (never a value); no secret is ever part of a repr.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from talos.machinery.config.documents import (
    RegistryAuthConfig,
    RegistryMirrorConfig,
    RegistryTLSConfig,
)
from talos.machinery.errors import FailedPrecondition


@dataclass(frozen=True)
class RegistryEndpoint:
    url: str
    override_path: bool = False


@dataclass(frozen=True)
class RegistryMirror:
    endpoints: tuple[RegistryEndpoint, ...]
    skip_fallback: bool = False
    source: str = ""


@dataclass(frozen=True)
class RegistryAuth:
    """The credentials of one registry endpoint, as written (`registry_auth.credentials`
    reads them)."""

    username: str = ""
    password: str = field(default="", repr=False)
    auth: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    source: str = ""


@dataclass(frozen=True)
class RegistryTLS:
    """The TLS settings of one registry endpoint, decoded to PEM bytes."""

    ca: bytes | None = None
    client_crt: bytes | None = field(default=None, repr=False)
    client_key: bytes | None = field(default=None, repr=False)
    insecure_skip_verify: bool = False
    source: str = ""


@dataclass(frozen=True)
class Registries:
    mirrors: dict[str, RegistryMirror] = field(default_factory=dict)
    auth: dict[str, RegistryAuth] = field(default_factory=dict)
    tls: dict[str, RegistryTLS] = field(default_factory=dict)


def registries(config: Any) -> Registries:
    """The combined registry settings of a config (None: none). Raises FailedPrecondition
    naming the field when a v1alpha1 TLS value is not base64 or a client identity lacks
    its certificate or key."""
    out = Registries()
    if config is None:
        return out
    v1 = getattr(config, "v1alpha1", None)
    regs = getattr(getattr(v1, "machine", None), "registries", None)
    for host, m in (getattr(regs, "mirrors", None) or {}).items():
        if m is None:
            continue
        override = bool(m.override_path)
        out.mirrors[str(host)] = RegistryMirror(
            tuple(RegistryEndpoint(str(e), override) for e in (m.endpoints or [])),
            bool(m.skip_fallback), f"machine.registries.mirrors.{host}")
    for host, rc in (getattr(regs, "config", None) or {}).items():
        if rc is None:
            continue
        if rc.auth is not None:
            a = rc.auth
            out.auth[str(host)] = RegistryAuth(
                a.username or "", a.password or "", a.auth or "", a.identity_token or "",
                f"machine.registries.config.{host}.auth")
        if rc.tls is not None:
            out.tls[str(host)] = _v1alpha1_tls(rc.tls, f"machine.registries.config.{host}.tls")
    for doc in getattr(config, "documents", None) or ():
        model, label = doc.model, doc.label
        if isinstance(model, RegistryMirrorConfig):
            out.mirrors[model.name] = RegistryMirror(
                tuple(RegistryEndpoint(e.url or "", bool(e.override_path))
                      for e in (model.endpoints or [])),
                bool(model.skip_fallback), label)
        elif isinstance(model, RegistryAuthConfig):
            out.auth[model.name] = RegistryAuth(
                model.username or "", model.password or "", model.auth or "",
                model.identity_token or "", label)
        elif isinstance(model, RegistryTLSConfig):
            out.tls[model.name] = _document_tls(model, label)
    return out


def _v1alpha1_tls(t: Any, path: str) -> RegistryTLS:
    ident = t.client_identity
    crt = _decode(ident.crt, f"{path}.clientIdentity.crt") if ident else None
    key = _decode(ident.key, f"{path}.clientIdentity.key") if ident else None
    if (crt is None) != (key is None):
        raise FailedPrecondition(f"{path}.clientIdentity: both crt and key are needed")
    return RegistryTLS(_decode(t.ca, f"{path}.ca"), crt, key, bool(t.insecure_skip_verify),
                       path)


def _document_tls(model: RegistryTLSConfig, label: str) -> RegistryTLS:
    ident = model.client_identity
    crt = (ident.cert or "").encode() or None if ident else None
    key = (ident.key or "").encode() or None if ident else None
    if (crt is None) != (key is None):
        raise FailedPrecondition(f"{label}.clientIdentity: both cert and key are needed")
    return RegistryTLS((model.ca or "").encode() or None, crt, key,
                       bool(model.insecure_skip_verify), label)


def _decode(value: str | None, path: str) -> bytes | None:
    """A base64 config field's bytes (CR/LF skipped, as Go's decoder); the error names the
    field, never the value."""
    if not value:
        return None
    try:
        return base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        raise FailedPrecondition(f"{path}: not valid base64") from None


# -- validation -------------------------------------------------------------------------------

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", re.S)


def _pem_certificates(text: str) -> int:
    """How many CERTIFICATE blocks of `text` parse (Go's AppendCertsFromPEM skips the rest)."""
    from cryptography import x509  # only when a config has registry TLS (27 ms import)

    count = 0
    for block in _PEM_BLOCK.finditer(text.encode()):
        if block.group(1) != b"CERTIFICATE":
            continue
        try:
            x509.load_pem_x509_certificate(block.group(0))
        except ValueError:
            continue
        count += 1
    return count


def _certificate_problem(text: str) -> str:
    block = _PEM_BLOCK.search(text.encode())
    if block is None:
        return "failed to decode PEM block"
    from cryptography import x509

    try:
        x509.load_pem_x509_certificate(block.group(0))
    except ValueError:
        return "failed to parse certificate"
    return ""


def _key_problem(text: str) -> str:
    block = _PEM_BLOCK.search(text.encode())
    if block is None:
        return "failed to decode PEM block"
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        serialization.load_pem_private_key(block.group(0), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return "failed to parse private key"
    return ""


def document_problems(model: Any) -> list[tuple[str, str]]:
    """Upstream's Validate of the three kinds (types/cri/registry_*.go): (field path relative
    to the document, message), upstream's wording. No value of a secret field is ever in a
    message."""
    out: list[tuple[str, str]] = []
    if isinstance(model, RegistryMirrorConfig | RegistryAuthConfig | RegistryTLSConfig) \
            and not model.name:
        out.append(("name", "name must be specified"))
    if isinstance(model, RegistryMirrorConfig):
        for i, ep in enumerate(model.endpoints or []):
            if not ep.url:
                out.append((f"endpoints[{i}].url", f"endpoints[{i}].url must be specified"))
                continue
            scheme = urlsplit(ep.url).scheme if "://" in ep.url else ""
            if scheme not in ("http", "https"):
                out.append((f"endpoints[{i}].url",
                            f'endpoints[{i}].url has unsupported scheme: "{scheme}"'))
    if isinstance(model, RegistryAuthConfig):
        user, token, auth = bool(model.username), bool(model.identity_token), bool(model.auth)
        if user and token:
            out.append(("", "only one of username/password or identityToken authentication "
                        "can be specified"))
        if auth and (user or token):
            out.append(("", "only one of auth, username/password or identityToken "
                        "authentication can be specified"))
    if isinstance(model, RegistryTLSConfig):
        if model.ca and not _pem_certificates(model.ca):
            out.append(("ca", "ca must be a valid PEM-encoded certificate"))
        ident = model.client_identity
        if ident is not None:
            if problem := _certificate_problem(ident.cert or ""):
                out.append(("clientIdentity.cert",
                            f"client identity certificate is invalid: {problem}"))
            if problem := _key_problem(ident.key or ""):
                out.append(("clientIdentity.key", f"client identity key is invalid: {problem}"))
    return out
