"""What gRPC (grpcio/BoringSSL) can serve: ECDSA and RSA, not Ed25519."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519

from talos.machinery.errors import FailedPrecondition


def is_grpc_capable(cert: x509.Certificate) -> bool:
    return not isinstance(cert.public_key(), ed25519.Ed25519PublicKey)


def require_grpc_capable(cert: x509.Certificate, *, what: str = "the OS CA") -> None:
    """Raise a clear error when `cert` uses Ed25519, which grpcio cannot negotiate.

    Upstream Talos bundles and talosconfigs use Ed25519 for the OS CA; they load fine
    everywhere, but anything that would present them (or certificates they sign) over gRPC
    fails here with an explanation instead of an opaque handshake error.
    """
    if not is_grpc_capable(cert):
        raise FailedPrecondition(
            f"{what} uses Ed25519, which gRPC cannot serve here; regenerate with "
            "`talosctl gen secrets` (ECDSA P-256)")
