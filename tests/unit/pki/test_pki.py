"""Certificate authorities, issued certificates, CSRs and trust tokens."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID

from talos.machinery.errors import FailedPrecondition, InvalidArgument
from talos.machinery.pki import (
    CertificateAndKey,
    CertificateAuthority,
    IssueOptions,
    ca_hash,
    check_token_format,
    generate_token,
    load_csr,
    load_private_key,
    new_csr,
    new_private_key,
    organizations_of,
    private_key_to_pem,
    require_grpc_capable,
    split_sans,
    token_matches,
    verify_issued_by,
)
from talos.machinery.pki.certificate import certificate_to_pem
from talos.machinery.pki.token import TOKEN_PATTERN


def test_generated_ca_is_ecdsa_p256_self_signed_ca_with_organization() -> None:
    ca = CertificateAuthority.generate(organization="talos")
    key = ca.cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "secp256r1"
    assert organizations_of(ca.cert) == ["talos"]
    assert ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = ca.cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.digital_signature
    verify_issued_by(ca.cert, ca.cert)
    lifetime = ca.cert.not_valid_after_utc - ca.cert.not_valid_before_utc
    assert lifetime >= dt.timedelta(hours=87600)


def test_issued_server_certificate_verifies_and_carries_sans_and_roles() -> None:
    ca = CertificateAuthority.generate(organization="talos")
    dns, ips = split_sans(["node-1", "10.5.0.2", "::1", " "])
    assert dns == ["node-1"]
    assert ips == [ipaddress.ip_address("10.5.0.2"), ipaddress.ip_address("::1")]
    pair = ca.issue_key_pair(IssueOptions(common_name="node-1", organizations=("os:admin",),
                                          dns_names=tuple(dns), ip_addresses=tuple(ips),
                                          server=True, client=True))
    cert = pair.certificate
    verify_issued_by(cert, ca.cert)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["node-1"]
    assert san.get_values_for_type(x509.IPAddress) == ips
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku and ExtendedKeyUsageOID.CLIENT_AUTH in eku
    assert organizations_of(cert) == ["os:admin"]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    pair.check(path="pair")


def test_certificate_from_another_ca_does_not_verify() -> None:
    ca = CertificateAuthority.generate(organization="talos")
    other = CertificateAuthority.generate(organization="talos")
    cert = other.issue_key_pair(IssueOptions(organizations=("os:reader",))).certificate
    with pytest.raises(InvalidArgument, match="does not verify"):
        verify_issued_by(cert, ca.cert)


def test_leaf_never_outlives_its_ca() -> None:
    ca = CertificateAuthority.generate(organization="talos", ttl=dt.timedelta(hours=1))
    cert = ca.issue_key_pair(IssueOptions(ttl=dt.timedelta(days=365))).certificate
    assert cert.not_valid_after_utc <= ca.cert.not_valid_after_utc


def test_csr_is_signed_keeping_roles_and_ip() -> None:
    ca = CertificateAuthority.generate(organization="talos")
    key = new_private_key()
    csr = new_csr(key, organizations=["os:reader", "os:etcd:backup"],
                  ip_addresses=[ipaddress.ip_address("10.5.0.3")])
    parsed = load_csr(csr.public_bytes(serialization.Encoding.PEM))
    cert = ca.sign_csr(parsed, ttl=dt.timedelta(hours=24))
    verify_issued_by(cert, ca.cert)
    assert organizations_of(cert) == ["os:reader", "os:etcd:backup"]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.5.0.3")]
    assert cert.public_key() == key.public_key()


def test_ed25519_ca_loads_and_signs_but_is_refused_for_grpc() -> None:
    ca = CertificateAuthority.generate(organization="talos", algorithm="ed25519")
    pem = ca.to_pem()
    assert b"BEGIN ED25519 PRIVATE KEY" in pem.key  # the label Talos writes
    loaded = CertificateAuthority.from_pem(pem)
    assert isinstance(loaded.key, ed25519.Ed25519PrivateKey)
    leaf = loaded.issue_key_pair(IssueOptions(organizations=("os:admin",))).certificate
    verify_issued_by(leaf, loaded.cert)
    with pytest.raises(FailedPrecondition) as e:
        require_grpc_capable(loaded.cert)
    assert str(e.value) == ("the OS CA uses Ed25519, which gRPC cannot serve here; regenerate "
                            "with `talosctl gen secrets` (ECDSA P-256)")
    require_grpc_capable(CertificateAuthority.generate(organization="talos").cert)


def test_private_keys_round_trip_in_talos_pem_forms() -> None:
    for algorithm, label in (("ecdsa", b"EC PRIVATE KEY"), ("ed25519", b"ED25519 PRIVATE KEY")):
        key = new_private_key(algorithm)  # type: ignore[arg-type]
        pem = private_key_to_pem(key)
        assert b"-----BEGIN " + label + b"-----" in pem
        assert private_key_to_pem(load_private_key(pem)) == pem


def test_garbage_pem_is_a_clear_error() -> None:
    with pytest.raises(InvalidArgument, match=r"certs\.os\.key: not a PEM block"):
        load_private_key(b"hello", what="certs.os.key")
    with pytest.raises(InvalidArgument, match="cannot parse PEM private key"):
        load_private_key(b"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n")
    with pytest.raises(InvalidArgument, match="the key does not match the certificate"):
        a = CertificateAuthority.generate(organization="a").to_pem()
        b = CertificateAuthority.generate(organization="b").to_pem()
        CertificateAndKey(a.crt, b.key).check(path="certs.os")


def test_ca_hash_is_sha256_of_public_key_info() -> None:
    ca = CertificateAuthority.generate(organization="talos")
    h = ca_hash(ca.cert)
    assert h.startswith("sha256:") and len(h) == len("sha256:") + 64
    assert ca_hash(x509.load_pem_x509_certificate(certificate_to_pem(ca.cert))) == h


def test_tokens_have_talos_format_and_compare_exactly() -> None:
    tokens = {generate_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(TOKEN_PATTERN.match(t) for t in tokens)
    t = next(iter(tokens))
    assert check_token_format(t) == t
    for bad in ("ABCDEF.0123456789abcdef", "abc.def", t + "x", ""):
        with pytest.raises(InvalidArgument, match=r"expected \[a-z0-9\]\{6\}"):
            check_token_format(bad)
    assert token_matches(t, t)
    assert not token_matches(t, t[:-1] + ("a" if t[-1] != "a" else "b"))
    assert not token_matches(t, "")
