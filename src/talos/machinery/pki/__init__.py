"""PKI: keys, certificate authorities, certificates, CSRs, trust tokens."""

from talos.machinery.pki.ca import (
    CA_VALIDITY,
    CLIENT_CERT_VALIDITY,
    CertificateAuthority,
    IssueOptions,
    load_csr,
    new_csr,
    organizations_of,
    split_sans,
    verify_issued_by,
)
from talos.machinery.pki.certificate import (
    CertificateAndKey,
    ca_hash,
    certificate_to_pem,
    load_certificate,
)
from talos.machinery.pki.keys import (
    PrivateKey,
    key_algorithm,
    load_private_key,
    new_private_key,
    private_key_to_pem,
)
from talos.machinery.pki.tls import is_grpc_capable, require_grpc_capable
from talos.machinery.pki.token import check_token_format, generate_token, token_matches

__all__ = [
    "CA_VALIDITY",
    "CLIENT_CERT_VALIDITY",
    "CertificateAndKey",
    "CertificateAuthority",
    "IssueOptions",
    "PrivateKey",
    "ca_hash",
    "certificate_to_pem",
    "check_token_format",
    "generate_token",
    "is_grpc_capable",
    "key_algorithm",
    "load_certificate",
    "load_csr",
    "load_private_key",
    "new_csr",
    "new_private_key",
    "organizations_of",
    "private_key_to_pem",
    "require_grpc_capable",
    "split_sans",
    "token_matches",
    "verify_issued_by",
]
