"""Private keys: generation (ECDSA P-256 by default) and PEM encoding/decoding.

Talos writes ECDSA keys as SEC1 `EC PRIVATE KEY` blocks and Ed25519 keys as PKCS#8 under the
non-standard label `ED25519 PRIVATE KEY`; both load here, as do plain PKCS#8 and RSA keys.
"""

from __future__ import annotations

import re
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from talos.machinery.errors import InvalidArgument

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
KeyAlgorithm = Literal["ecdsa", "ed25519", "rsa"]

_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")


def new_private_key(algorithm: KeyAlgorithm = "ecdsa") -> PrivateKey:
    """A fresh key: ECDSA P-256 (the default: gRPC can serve it), Ed25519 or RSA-4096."""
    if algorithm == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=4096)
    raise InvalidArgument(f"unknown key algorithm {algorithm!r} (expected ecdsa, ed25519 or rsa)")


def key_algorithm(key: PrivateKey | PublicKey) -> KeyAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return "ecdsa"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "ed25519"
    return "rsa"


def private_key_to_pem(key: PrivateKey) -> bytes:
    """PEM as Talos writes it: SEC1 for ECDSA, PKCS#1 for RSA, PKCS#8 `ED25519 PRIVATE KEY`."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        return pem.replace(b"PRIVATE KEY-----", b"ED25519 PRIVATE KEY-----")
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def load_private_key(pem: bytes | str, *, what: str = "private key") -> PrivateKey:
    """Parse a PEM private key (EC, RSA, PKCS#8, or Talos's `ED25519 PRIVATE KEY`)."""
    data = pem.encode() if isinstance(pem, str) else pem
    match = _PEM_LABEL.search(data)
    if match is None:
        raise InvalidArgument(f"{what}: not a PEM block (no '-----BEGIN ...-----' line)")
    if match.group(1) == b"ED25519 PRIVATE KEY":
        data = data.replace(b"ED25519 PRIVATE KEY-----", b"PRIVATE KEY-----")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise InvalidArgument(f"{what}: cannot parse PEM private key: {e}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
                      | rsa.RSAPrivateKey):
        raise InvalidArgument(f"{what}: unsupported key type {type(key).__name__}")
    return key


def public_key_to_pem(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)
