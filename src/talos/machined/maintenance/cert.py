"""The self-signed server certificate of maintenance mode (ECDSA P-256: grpcio cannot serve
Ed25519). Clients cannot verify it (no CA exists yet): `talosctl --insecure` fetches it and
trusts it for that connection."""

from __future__ import annotations

import datetime as dt
import ipaddress

from talos.machinery.pki.ca import CertificateAuthority
from talos.machinery.pki.certificate import CertificateAndKey

TTL = dt.timedelta(days=1)


def self_signed(addresses: list[str], hostname: str) -> CertificateAndKey:
    ips = [ipaddress.ip_address("127.0.0.1")]
    for a in addresses:
        ip = ipaddress.ip_address(a)
        if ip not in ips:
            ips.append(ip)
    ca = CertificateAuthority.generate(common_name=hostname or "maintenance", ttl=TTL,
                                       ip_addresses=tuple(ips))
    return ca.to_pem()
