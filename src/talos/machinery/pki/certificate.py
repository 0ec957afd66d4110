"""PEM-encoded certificate + key pairs, as Talos configs and bundles carry them (base64 PEM)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from talos.machinery.errors import InvalidArgument
from talos.machinery.pki.keys import PrivateKey, load_private_key, private_key_to_pem


def load_certificate(pem: bytes | str, *, what: str = "certificate") -> x509.Certificate:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as e:
        raise InvalidArgument(f"{what}: cannot parse PEM certificate: {e}") from None


def certificate_to_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def decode_base64(value: str, *, what: str) -> bytes:
    """Strict base64 decoding with an error naming the field."""
    try:
        return base64.b64decode(value.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument(f"{what}: not valid base64") from None


def encode_base64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ca_hash(cert: x509.Certificate) -> str:
    """`sha256:<hex>` of the certificate's SubjectPublicKeyInfo (kubeadm's CA cert hash)."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


@dataclass(frozen=True)
class CertificateAndKey:
    """A PEM certificate and (optionally, for workers) its PEM private key."""

    crt: bytes
    key: bytes = b""

    @classmethod
    def from_objects(cls, cert: x509.Certificate, key: PrivateKey | None) -> CertificateAndKey:
        return cls(certificate_to_pem(cert), private_key_to_pem(key) if key is not None else b"")

    @classmethod
    def from_base64(cls, data: Any, *, path: str) -> CertificateAndKey:
        """From a `{crt: <base64 PEM>, key: <base64 PEM>}` mapping; errors name `path`."""
        if not isinstance(data, dict):
            raise InvalidArgument(f"{path}: expected a mapping with crt and key")
        unknown = sorted(set(data) - {"crt", "key"})
        if unknown:
            raise InvalidArgument(f"{path}: unknown field {unknown[0]!r} (expected crt, key)")
        crt = data.get("crt") or ""
        key = data.get("key") or ""
        if not isinstance(crt, str) or not isinstance(key, str):
            raise InvalidArgument(f"{path}: crt and key must be base64 strings")
        return cls(decode_base64(crt, what=f"{path}.crt") if crt else b"",
                   decode_base64(key, what=f"{path}.key") if key else b"")

    def to_base64(self) -> dict[str, str]:
        return {"crt": encode_base64(self.crt), "key": encode_base64(self.key)}

    @property
    def certificate(self) -> x509.Certificate:
        return load_certificate(self.crt)

    @property
    def private_key(self) -> PrivateKey:
        if not self.key:
            raise InvalidArgument("the private key is missing (certificate only)")
        return load_private_key(self.key)

    def without_key(self) -> CertificateAndKey:
        return CertificateAndKey(self.crt, b"")

    def check(self, *, path: str) -> None:
        """Both halves parse and the key belongs to the certificate."""
        cert = load_certificate(self.crt, what=f"{path}.crt")
        key = load_private_key(self.key, what=f"{path}.key")
        pub = serialization.PublicFormat.SubjectPublicKeyInfo
        if (cert.public_key().public_bytes(serialization.Encoding.DER, pub)
                != key.public_key().public_bytes(serialization.Encoding.DER, pub)):
            raise InvalidArgument(f"{path}: the key does not match the certificate")
