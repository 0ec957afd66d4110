"""SPKI fingerprints: base64 (standard alphabet) of the SHA-256 of a certificate's
SubjectPublicKeyInfo, the form Talos prints for a maintenance-mode node and accepts in
`talosctl --cert-fingerprint`."""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from talos.machinery.errors import InvalidArgument


def spki_fingerprint(cert_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def parse_fingerprint(value: str) -> str:
    """A fingerprint as given on the command line, checked: 32 bytes in base64."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != hashlib.sha256().digest_size:
        raise InvalidArgument(f"certificate fingerprint {value!r}: expected the base64 of a "
                              "SHA-256 digest (44 characters ending in '=')")
    return base64.b64encode(raw).decode()
