"""Certificate authorities and issuing: self-signed CAs, leaf certificates, CSRs.

Every CA and certificate this project generates is ECDSA P-256 unless asked otherwise
(grpcio cannot negotiate Ed25519). A CA loaded from an upstream bundle may be Ed25519: it
still signs (for files, etcd, Kubernetes) and `tls.require_grpc_capable` says when it cannot
be used for gRPC.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from talos.machinery.errors import InvalidArgument
from talos.machinery.pki.certificate import CertificateAndKey, load_certificate
from talos.machinery.pki.keys import (
    KeyAlgorithm,
    PrivateKey,
    PublicKey,
    load_private_key,
    new_private_key,
)

#: Talos's CA validity: 87600 h (10 years).
CA_VALIDITY = dt.timedelta(hours=87600)
#: Talos's default validity of API client certificates: one year.
CLIENT_CERT_VALIDITY = dt.timedelta(hours=8760)
#: Certificates are valid from a little before "now", to tolerate clock skew.
_BACKDATE = dt.timedelta(minutes=5)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now(dt.UTC)


def _hash_for(key: PrivateKey) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def build_name(common_name: str | None = None,
               organizations: Iterable[str] = ()) -> x509.Name:
    """Subject with one O per organization (Talos carries roles in O) and an optional CN."""
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    if common_name:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def split_sans(sans: Iterable[str]) -> tuple[list[str], list[IPAddress]]:
    """Sort SANs into DNS names and IP addresses (both may be given as plain strings)."""
    dns: list[str] = []
    ips: list[IPAddress] = []
    for san in sans:
        san = san.strip()
        if not san:
            continue
        try:
            ips.append(ipaddress.ip_address(san))
        except ValueError:
            dns.append(san)
    return dns, ips


def organizations_of(cert: x509.Certificate | x509.CertificateSigningRequest) -> list[str]:
    """The Subject Organization values, e.g. the Talos roles of a client certificate."""
    return [str(a.value) for a in
            cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]


@dataclass(frozen=True)
class IssueOptions:
    """What goes into an issued certificate besides the key."""

    common_name: str | None = None
    organizations: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[IPAddress, ...] = ()
    ttl: dt.timedelta = CLIENT_CERT_VALIDITY
    server: bool = False
    client: bool = True


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA certificate and its private key."""

    cert: x509.Certificate
    key: PrivateKey

    @classmethod
    def generate(cls, *, organization: str | None = None, common_name: str | None = None,
                 ttl: dt.timedelta = CA_VALIDITY, algorithm: KeyAlgorithm = "ecdsa",
                 ip_addresses: tuple[IPAddress, ...] = (),
                 now: dt.datetime | None = None) -> CertificateAuthority:
        """A self-signed CA (key usage digitalSignature+certSign, EKU server+client auth),
        optionally valid for IP addresses too (`talosctl gen keypair --ip`)."""
        key = new_private_key(algorithm)
        start = _now(now)
        name = build_name(common_name, [organization] if organization else [])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - _BACKDATE)
            .not_valid_after(start + ttl)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True, cert_sign=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
        )
        if ip_addresses:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ip) for ip in ip_addresses]), critical=False)
        return cls(builder.sign(key, _hash_for(key)), key)

    @classmethod
    def from_pem(cls, pair: CertificateAndKey, *, what: str = "CA") -> CertificateAuthority:
        cert = load_certificate(pair.crt, what=f"{what} certificate")
        if not pair.key:
            raise InvalidArgument(f"{what}: the CA private key is missing; cannot sign")
        key = load_private_key(pair.key, what=f"{what} key")
        return cls(cert, key)

    def to_pem(self) -> CertificateAndKey:
        return CertificateAndKey.from_objects(self.cert, self.key)

    def issue(self, public_key: PublicKey, options: IssueOptions,
              *, now: dt.datetime | None = None) -> x509.Certificate:
        """Sign a leaf certificate for `public_key`."""
        start = _now(now)
        not_after = min(start + options.ttl, self.cert.not_valid_after_utc)
        usages = []
        if options.server:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if options.client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        # ECDSA/Ed25519 keys sign (digitalSignature); RSA keys also encipher keys.
        builder = (
            x509.CertificateBuilder()
            .subject_name(build_name(options.common_name, options.organizations))
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - _BACKDATE)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True,
                                      key_encipherment=isinstance(public_key, rsa.RSAPublicKey)),
                           critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.cert.public_key()), critical=False)  # type: ignore[arg-type]
        )
        if usages:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        general: list[x509.GeneralName] = [x509.DNSName(d) for d in options.dns_names]
        general += [x509.IPAddress(ip) for ip in options.ip_addresses]
        if general:
            builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=False)
        return builder.sign(self.key, _hash_for(self.key))

    def issue_key_pair(self, options: IssueOptions, *, algorithm: KeyAlgorithm = "ecdsa",
                       now: dt.datetime | None = None) -> CertificateAndKey:
        """A fresh key and a certificate for it."""
        key = new_private_key(algorithm)
        return CertificateAndKey.from_objects(self.issue(key.public_key(), options, now=now), key)

    def sign_csr(self, csr: x509.CertificateSigningRequest, *, ttl: dt.timedelta,
                 server: bool = False, client: bool = True,
                 now: dt.datetime | None = None) -> x509.Certificate:
        """Issue a certificate for a CSR, keeping its subject (roles in O) and SANs."""
        if not csr.is_signature_valid:
            raise InvalidArgument("certificate request: signature is invalid")
        dns: tuple[str, ...] = ()
        ips: tuple[IPAddress, ...] = ()
        try:
            san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns = tuple(san.get_values_for_type(x509.DNSName))
            ips = tuple(san.get_values_for_type(x509.IPAddress))  # type: ignore[arg-type]
        except x509.ExtensionNotFound:
            pass
        cns = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
                          | rsa.RSAPublicKey):
            raise InvalidArgument(
                f"certificate request: unsupported key type {type(public_key).__name__}")
        options = IssueOptions(
            common_name=str(cns[0].value) if cns else None,
            organizations=tuple(organizations_of(csr)),
            dns_names=dns, ip_addresses=ips, ttl=ttl, server=server, client=client)
        return self.issue(public_key, options, now=now)


def new_csr(key: PrivateKey, *, common_name: str | None = None,
            organizations: Sequence[str] = (), dns_names: Sequence[str] = (),
            ip_addresses: Sequence[IPAddress] = ()) -> x509.CertificateSigningRequest:
    """A certificate signing request (roles in O, SANs as given)."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        build_name(common_name, organizations))
    general: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
    general += [x509.IPAddress(ip) for ip in ip_addresses]
    if general:
        builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=False)
    return builder.sign(key, _hash_for(key))


def load_csr(pem: bytes | str, *, what: str = "certificate request"
             ) -> x509.CertificateSigningRequest:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        return x509.load_pem_x509_csr(data)
    except ValueError as e:
        raise InvalidArgument(f"{what}: cannot parse PEM certificate request: {e}") from None


def verify_issued_by(cert: x509.Certificate, ca: x509.Certificate) -> None:
    """Raise InvalidArgument unless `cert` was signed by `ca` and is within its validity."""
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError) as e:
        raise InvalidArgument(f"certificate is not issued by the CA: {e}") from None
    except InvalidSignature as e:
        raise InvalidArgument(f"certificate signature does not verify against the CA: {e}"
                              ) from None


def _key_usage(*, digital_signature: bool = False, key_encipherment: bool = False,
               cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=False,
        key_encipherment=key_encipherment, data_encipherment=False, key_agreement=False,
        key_cert_sign=cert_sign, crl_sign=False, encipher_only=False, decipher_only=False)
