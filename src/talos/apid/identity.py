"""Who is calling: roles from the client certificate, or carried in metadata by another apid.

The roles of a call come from the Subject Organization of the verified client certificate.
Only a certificate holding `os:impersonator` (another node's apid) may instead carry the
original caller's roles in the `talos-role` metadata; from anyone else that metadata is
ignored, so nobody gains roles by routing a call through a node.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from cryptography import x509

from talos.machinery import role
from talos.machinery.errors import Unauthenticated
from talos.machinery.pki import organizations_of

#: gRPC metadata key carrying roles between apids (and to machined), as Talos names it.
ROLE_METADATA_KEY = "talos-role"


@lru_cache(maxsize=1024)
def certificate_roles(pem: bytes) -> frozenset[str]:
    return role.known(organizations_of(x509.load_pem_x509_certificate(pem)))


def peer_certificate(auth_context: dict[str, Sequence[bytes]]) -> bytes:
    pems = auth_context.get("x509_pem_cert") or ()
    if not pems:
        raise Unauthenticated("no client certificate was presented")
    return pems[0]


def caller_roles(auth_context: dict[str, Sequence[bytes]],
                 metadata: Iterable[tuple[str, str | bytes]]) -> frozenset[str]:
    cert_roles = certificate_roles(peer_certificate(auth_context))
    if role.IMPERSONATOR in cert_roles:
        carried = [v for k, v in metadata if k == ROLE_METADATA_KEY and isinstance(v, str)]
        if carried:
            return role.known(carried)
    return cert_roles
