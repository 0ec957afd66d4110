"""The cluster secrets bundle, in the YAML layout `talosctl gen secrets` writes.

```yaml
cluster: {id, secret}
secrets: {bootstraptoken, secretboxencryptionsecret | aescbcencryptionsecret}
trustdinfo: {token}
certs: {etcd, k8s, k8saggregator: {crt, key}, k8sserviceaccount: {key}, os: {crt, key}}
```
with every `crt`/`key` a base64-encoded PEM block. Upstream bundles (Ed25519 OS CA) load;
bundles generated here use ECDSA P-256 everywhere so the OS CA can serve gRPC.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets as pysecrets
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path
from typing import Any

from talos.machinery import goyaml, role
from talos.machinery.atomic import write_atomic
from talos.machinery.errors import InvalidArgument, InvalidConfig, Problem
from talos.machinery.pki.ca import (
    CLIENT_CERT_VALIDITY,
    CertificateAuthority,
    IssueOptions,
    split_sans,
)
from talos.machinery.pki.certificate import CertificateAndKey, decode_base64, encode_base64
from talos.machinery.pki.keys import load_private_key, new_private_key, private_key_to_pem
from talos.machinery.pki.tls import require_grpc_capable
from talos.machinery.pki.token import TOKEN_PATTERN, check_token_format, generate_token

#: bytes of randomness in cluster.id and cluster.secret (Talos: 32 each)
CLUSTER_ID_SIZE = 32
CLUSTER_SECRET_SIZE = 32
_CERT_FIELDS = ("etcd", "k8s", "k8saggregator", "os")
_TOP_FIELDS = ("cluster", "secrets", "trustdinfo", "certs")


def _random_b64(n: int, *, urlsafe: bool = False) -> str:
    raw = pysecrets.token_bytes(n)
    return (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()


@dataclass(frozen=True)
class SecretsBundle:
    """Every secret a cluster's machine configs are generated from."""

    cluster_id: str
    cluster_secret: str
    bootstrap_token: str
    trustd_token: str
    etcd: CertificateAndKey
    k8s: CertificateAndKey
    k8s_aggregator: CertificateAndKey
    k8s_service_account_key: bytes
    os: CertificateAndKey
    secretbox_encryption_secret: str = ""
    aescbc_encryption_secret: str = ""

    # ---- creation -------------------------------------------------------------------

    @classmethod
    def generate(cls, *, now: dt.datetime | None = None) -> SecretsBundle:
        """Fresh secrets; every CA is ECDSA P-256 (O=etcd, O=kubernetes, CN=front-proxy,
        O=talos), the service-account key ECDSA P-256, tokens in Talos's format."""
        return cls(
            cluster_id=_random_b64(CLUSTER_ID_SIZE, urlsafe=True),
            cluster_secret=_random_b64(CLUSTER_SECRET_SIZE),
            bootstrap_token=generate_token(),
            trustd_token=generate_token(),
            etcd=CertificateAuthority.generate(organization="etcd", now=now).to_pem(),
            k8s=CertificateAuthority.generate(organization="kubernetes", now=now).to_pem(),
            k8s_aggregator=CertificateAuthority.generate(common_name="front-proxy",
                                                         now=now).to_pem(),
            k8s_service_account_key=private_key_to_pem(new_private_key("ecdsa")),
            os=CertificateAuthority.generate(organization="talos", now=now).to_pem(),
            secretbox_encryption_secret=_random_b64(32),
        )

    @classmethod
    def from_kubernetes_pki(cls, pki_dir: str | PathLike[str], bootstrap_token: str = "", *,
                            now: dt.datetime | None = None) -> SecretsBundle:
        """Reuse an existing Kubernetes PKI directory (kubeadm layout: `ca.*`, `etcd/ca.*`,
        `front-proxy-ca.*`, `sa.key`); everything else is generated (Talos's
        `gen secrets --from-kubernetes-pki`)."""
        root = Path(pki_dir)
        if not root.is_dir():
            raise InvalidArgument(f"{str(root)!r} is not a directory")

        def pair(crt: str, key: str) -> CertificateAndKey:
            try:
                p = CertificateAndKey((root / crt).read_bytes(), (root / key).read_bytes())
            except OSError as e:
                raise InvalidArgument(f"cannot read {e.filename}: {e.strerror}") from None
            p.check(path=str(root / crt))
            return p

        try:
            sa = (root / "sa.key").read_bytes()
        except OSError as e:
            raise InvalidArgument(f"cannot read {e.filename}: {e.strerror}") from None
        load_private_key(sa, what=str(root / "sa.key"))
        if bootstrap_token:
            check_token_format(bootstrap_token, what="bootstrap token")
        fresh = cls.generate(now=now)
        return replace(fresh, k8s=pair("ca.crt", "ca.key"),
                       etcd=pair("etcd/ca.crt", "etcd/ca.key"),
                       k8s_aggregator=pair("front-proxy-ca.crt", "front-proxy-ca.key"),
                       k8s_service_account_key=sa,
                       bootstrap_token=bootstrap_token or fresh.bootstrap_token)

    # ---- YAML -------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, text: str | bytes, *, source: str = "<secrets>") -> SecretsBundle:
        """Parse and validate a bundle; every problem is reported with its field path."""
        data = goyaml.load(text, source=source)
        problems: list[Problem] = []
        if not isinstance(data, dict):
            raise InvalidConfig([Problem("", "expected a mapping with "
                                         + ", ".join(_TOP_FIELDS))], source=source)
        for key in data:
            if key not in _TOP_FIELDS:
                problems.append(Problem(str(key), "unknown field (expected one of "
                                        + ", ".join(_TOP_FIELDS) + ")"))

        def section(name: str, fields: tuple[str, ...]) -> dict[str, Any] | None:
            value = data.get(name)
            if value is None:
                problems.append(Problem(name, "is required"))
                return None
            if not isinstance(value, dict):
                problems.append(Problem(name, "expected a mapping"))
                return None
            for k in value:
                if k not in fields:
                    problems.append(Problem(f"{name}.{k}", "unknown field (expected one of "
                                            + ", ".join(fields) + ")"))
            return value

        def string(sec: dict[str, Any] | None, path: str, key: str, *,
                   required: bool = True) -> str:
            if sec is None:
                return ""
            value = sec.get(key)
            if value is None or value == "":
                if required:
                    problems.append(Problem(f"{path}.{key}", "is required"))
                return ""
            if not isinstance(value, str):
                problems.append(Problem(f"{path}.{key}", "expected a string"))
                return ""
            return value

        cluster = section("cluster", ("id", "secret"))
        secrets = section("secrets", ("bootstraptoken", "secretboxencryptionsecret",
                                      "aescbcencryptionsecret"))
        trustd = section("trustdinfo", ("token",))
        certs = section("certs", (*_CERT_FIELDS, "k8sserviceaccount"))

        cluster_id = string(cluster, "cluster", "id")
        cluster_secret = string(cluster, "cluster", "secret")
        bootstrap = string(secrets, "secrets", "bootstraptoken")
        secretbox = string(secrets, "secrets", "secretboxencryptionsecret", required=False)
        aescbc = string(secrets, "secrets", "aescbcencryptionsecret", required=False)
        if secrets is not None and not secretbox and not aescbc:
            problems.append(Problem("secrets", "one of [secrets.secretboxencryptionsecret, "
                                    "secrets.aescbcencryptionsecret] is required"))
        if secretbox and aescbc:
            problems.append(Problem("secrets", "only one of [secrets.secretboxencryptionsecret, "
                                    "secrets.aescbcencryptionsecret] is allowed"))
        trustd_token = string(trustd, "trustdinfo", "token")
        if trustd_token and not TOKEN_PATTERN.match(trustd_token):
            problems.append(Problem("trustdinfo.token",
                                    "invalid token format (expected [a-z0-9]{6}.[a-z0-9]{16})"))
        if bootstrap and not TOKEN_PATTERN.match(bootstrap):
            problems.append(Problem("secrets.bootstraptoken",
                                    "invalid token format (expected [a-z0-9]{6}.[a-z0-9]{16})"))

        pairs: dict[str, CertificateAndKey] = {}
        cert_map: dict[str, Any] = certs if certs is not None else {}
        for name in _CERT_FIELDS if certs is not None else ():
            path = f"certs.{name}"
            if cert_map.get(name) is None:
                problems.append(Problem(path, "is required"))
                continue
            try:
                pair = CertificateAndKey.from_base64(cert_map[name], path=path)
                pair.check(path=path)
                pairs[name] = pair
            except InvalidArgument as e:
                problems.append(Problem("", str(e)))
        sa_key = b""
        if certs is not None:
            sa = cert_map.get("k8sserviceaccount")
            path = "certs.k8sserviceaccount"
            if not isinstance(sa, dict) or not sa.get("key"):
                problems.append(Problem(f"{path}.key", "is required"))
            else:
                try:
                    sa_key = decode_base64(str(sa["key"]), what=f"{path}.key")
                    load_private_key(sa_key, what=f"{path}.key")
                except InvalidArgument as e:
                    problems.append(Problem("", str(e)))
        if problems:
            raise InvalidConfig(problems, source=source)
        return cls(
            cluster_id=cluster_id, cluster_secret=cluster_secret, bootstrap_token=bootstrap,
            trustd_token=trustd_token, etcd=pairs["etcd"], k8s=pairs["k8s"],
            k8s_aggregator=pairs["k8saggregator"], k8s_service_account_key=sa_key,
            os=pairs["os"], secretbox_encryption_secret=secretbox,
            aescbc_encryption_secret=aescbc)

    def to_dict(self) -> dict[str, Any]:
        secrets: dict[str, str] = {"bootstraptoken": self.bootstrap_token}
        if self.aescbc_encryption_secret:
            secrets["aescbcencryptionsecret"] = self.aescbc_encryption_secret
        if self.secretbox_encryption_secret:
            secrets["secretboxencryptionsecret"] = self.secretbox_encryption_secret
        return {
            "cluster": {"id": self.cluster_id, "secret": self.cluster_secret},
            "secrets": secrets,
            "trustdinfo": {"token": self.trustd_token},
            "certs": {
                "etcd": self.etcd.to_base64(),
                "k8s": self.k8s.to_base64(),
                "k8saggregator": self.k8s_aggregator.to_base64(),
                "k8sserviceaccount": {"key": encode_base64(self.k8s_service_account_key)},
                "os": self.os.to_base64(),
            },
        }

    def to_yaml(self) -> str:
        return goyaml.dump(self.to_dict())

    @classmethod
    def load(cls, path: str | PathLike[str]) -> SecretsBundle:
        p = Path(path)
        try:
            text = p.read_bytes()
        except OSError as e:
            raise InvalidArgument(f"cannot read secrets bundle {str(p)!r}: {e.strerror}"
                                  ) from None
        return cls.from_yaml(text, source=str(p))

    def save(self, path: str | PathLike[str]) -> None:
        """Atomic write, mode 0600."""
        write_atomic(path, self.to_yaml(), 0o600)

    # ---- use ----------------------------------------------------------------------------

    def os_ca(self) -> CertificateAuthority:
        return CertificateAuthority.from_pem(self.os, what="certs.os")

    def require_grpc_capable_os_ca(self) -> None:
        """Raise FailedPrecondition if the OS CA is Ed25519 (an upstream bundle)."""
        require_grpc_capable(self.os.certificate, what="the OS CA")

    def client_certificate(self, roles: tuple[str, ...] = (role.ADMIN,), *,
                           ttl: dt.timedelta = CLIENT_CERT_VALIDITY,
                           now: dt.datetime | None = None) -> CertificateAndKey:
        """An API client certificate (roles in Subject O, ECDSA key, EKU clientAuth)."""
        self.require_grpc_capable_os_ca()
        return self.os_ca().issue_key_pair(
            IssueOptions(organizations=roles, ttl=ttl, client=True, server=False), now=now)

    def server_certificate(self, sans: tuple[str, ...], *, roles: tuple[str, ...] = (),
                           ttl: dt.timedelta = CLIENT_CERT_VALIDITY,
                           now: dt.datetime | None = None) -> CertificateAndKey:
        """A serving certificate from the OS CA (e.g. a node's apid) for the given IPs and
        DNS names, usable as a client too (node-to-node calls carry `roles`)."""
        self.require_grpc_capable_os_ca()
        dns, ips = split_sans(sans)
        if not dns and not ips:
            raise InvalidArgument("a server certificate needs at least one IP or DNS name")
        return self.os_ca().issue_key_pair(IssueOptions(
            common_name=dns[0] if dns else str(ips[0]), organizations=roles,
            dns_names=tuple(dns), ip_addresses=tuple(ips), ttl=ttl, server=True, client=True),
            now=now)

    def with_changes(self, **changes: Any) -> SecretsBundle:
        return replace(self, **changes)
