"""Leaf certificates of the etcd member, issued at service start from the cluster's etcd CA
(ECDSA P-256: grpcio cannot use Ed25519): one for peer traffic, one serving clients, one
client certificate machined uses to talk to etcd. Written 0600 into the node's secrets
directory (tmpfs in a sandbox)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass

from talos.machined.etcd.client import ClientTLS
from talos.machined.etcd.settings import EtcdSettings
from talos.machinery.atomic import write_atomic
from talos.machinery.pki import CertificateAuthority, IssueOptions

LEAF_TTL = dt.timedelta(days=365)


@dataclass(frozen=True)
class EtcdPKI:
    directory: str

    def path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    @property
    def ca(self) -> str:
        return self.path("ca.crt")

    def pair(self, kind: str) -> tuple[str, str]:
        return self.path(f"{kind}.crt"), self.path(f"{kind}.key")

    def issue(self, settings: EtcdSettings) -> None:
        """(Re)issue every leaf for the current settings; blocking (call in a thread)."""
        ca = CertificateAuthority.from_pem(settings.ca, what="cluster.etcd.ca")
        ips = {ipaddress.ip_address(settings.address), ipaddress.ip_address("127.0.0.1"),
               ipaddress.ip_address("::1"), *map(ipaddress.ip_address, settings.listen)}
        dns = tuple(sorted({"localhost", *settings.sans}))
        server = ca.issue_key_pair(IssueOptions(
            common_name=settings.name, dns_names=dns, ip_addresses=tuple(sorted(ips, key=str)),
            ttl=LEAF_TTL, server=True, client=True))
        client = ca.issue_key_pair(IssueOptions(
            common_name=settings.name, ttl=LEAF_TTL, server=False, client=True))
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        write_atomic(self.ca, settings.ca.crt, mode=0o644)
        for kind, pair in (("peer", server), ("server", server), ("client", client)):
            crt, key = self.pair(kind)
            write_atomic(crt, pair.crt, mode=0o644)
            write_atomic(key, pair.key, mode=0o600)

    def client_tls(self) -> ClientTLS:
        crt, key = self.pair("client")
        with open(self.ca, "rb") as f:
            ca = f.read()
        with open(crt, "rb") as f:
            c = f.read()
        with open(key, "rb") as f:
            k = f.read()
        return ClientTLS(ca=ca, crt=c, key=k)
