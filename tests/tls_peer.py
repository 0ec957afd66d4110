"""What a TLS server presents to a fresh handshake (real TLS, Python's ssl module)."""

from __future__ import annotations

import socket
import ssl

from cryptography import x509


def presented_addresses(port: int, ca_pem: bytes, host: str = "127.0.0.1") -> list[str]:
    """The IP SANs, in order, of the certificate a new handshake with `host:port` gets;
    the certificate must chain to `ca_pem` (names are not checked: they are the result)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=ca_pem.decode())
    ctx.check_hostname = False
    ctx.set_alpn_protocols(["h2"])
    with socket.create_connection((host, port), timeout=10) as raw, \
            ctx.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    san = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    return [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
