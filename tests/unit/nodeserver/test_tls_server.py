"""The shared node-server TLS listener: serves, and says clearly when it cannot listen."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from talos.machinery.errors import Unavailable
from talos.machinery.pki import CertificateAuthority, IssueOptions
from talos.nodeserver.process import listen_host, read_file
from talos.nodeserver.tls import TlsListener, TlsServer, start_tls_server


def _listener(name: str, listen: str) -> TlsListener:
    ca = CertificateAuthority.generate()
    pair = ca.issue_key_pair(IssueOptions(ip_addresses=(ipaddress.ip_address("127.0.0.1"),),
                                          server=True, client=False))
    return TlsListener(name, listen, pair.crt, pair.key)


async def test_serves_on_an_ephemeral_port_and_stops() -> None:
    server = TlsServer(_listener("demo", "127.0.0.1:0"), lambda s: None)
    port = await server.start()
    try:
        assert port > 0 and server.port == port
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            pass
    finally:
        await server.stop(0)
    await server.stop(0)  # idempotent


async def test_a_taken_port_is_unavailable_naming_server_and_address() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(Unavailable, match=rf"^maintenance API: cannot listen on "
                                              rf"127\.0\.0\.1:{port}"):
            await start_tls_server(_listener("maintenance API", f"127.0.0.1:{port}"),
                                   lambda s: None)


async def test_two_node_servers_never_share_a_port() -> None:
    first = TlsServer(_listener("apid", "127.0.0.1:0"), lambda s: None)
    port = await first.start()
    try:
        second = TlsServer(_listener("apid", f"127.0.0.1:{port}"), lambda s: None)
        with pytest.raises(Unavailable, match="apid: cannot listen on"):
            await second.start()
    finally:
        await first.stop(0)


async def test_a_malformed_address_is_unavailable() -> None:
    with pytest.raises(Unavailable, match="trustd: cannot listen on not an address"):
        await start_tls_server(_listener("trustd", "not an address"), lambda s: None)


def test_read_file_names_the_missing_file(tmp_path) -> None:
    from talos.machinery.errors import InvalidArgument
    with pytest.raises(InvalidArgument, match=r"CA file '.*nope\.pem': No such file"):
        read_file(tmp_path / "nope.pem", "CA file")
    assert listen_host("0.0.0.0:50000") == "0.0.0.0"
    assert listen_host("[::]:50000") == "[::]"

