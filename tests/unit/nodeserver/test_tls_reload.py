"""A node server given its certificate files presents what they hold now to each new
connection (machined re-issues the node certificate when the node's addresses change), and
never a certificate with a key that does not belong to it."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
from pathlib import Path

from talos.machinery.atomic import write_atomic
from talos.machinery.pki import CertificateAndKey, CertificateAuthority, IssueOptions
from talos.nodeserver.tls import CertificateFiles, TlsListener, TlsServer
from tests.tls_peer import presented_addresses

CA = CertificateAuthority.generate()


def _pair(address: str) -> CertificateAndKey:
    return CA.issue_key_pair(IssueOptions(
        common_name=address, ip_addresses=(ipaddress.ip_address(address),),
        ttl=dt.timedelta(hours=1), server=True, client=False))


def _write(files: CertificateFiles, pair: CertificateAndKey) -> None:
    write_atomic(files.key, pair.key)
    write_atomic(files.cert, pair.crt, mode=0o644)


def presented(port: int) -> list[str]:
    return presented_addresses(port, CA.to_pem().crt)


async def _serving(tmp_path: Path) -> tuple[TlsServer, CertificateFiles]:
    files = CertificateFiles(str(tmp_path / "node.crt"), str(tmp_path / "node.key"))
    first = _pair("10.5.0.2")
    _write(files, first)
    server = TlsServer(TlsListener("apid", "127.0.0.1:0", first.crt, first.key, files=files),
                       lambda s: None)
    await server.start()
    return server, files


async def test_a_new_connection_gets_the_certificate_the_files_hold_now(
        tmp_path: Path) -> None:
    server, files = await _serving(tmp_path)
    try:
        assert await asyncio.to_thread(presented, server.port) == ["10.5.0.2"]
        _write(files, _pair("192.168.7.20"))
        assert await asyncio.to_thread(presented, server.port) == ["192.168.7.20"]
        assert await asyncio.to_thread(presented, server.port) == ["192.168.7.20"]
    finally:
        await server.stop(0)


async def test_a_certificate_whose_key_is_not_there_yet_is_not_presented(
        tmp_path: Path) -> None:
    server, files = await _serving(tmp_path)
    try:
        # a replacement caught half-way: the new certificate beside the old key
        write_atomic(files.cert, _pair("192.168.7.20").crt, mode=0o644)
        assert await asyncio.to_thread(presented, server.port) == ["10.5.0.2"]
        _write(files, _pair("192.168.7.21"))  # the replacement completes
        assert await asyncio.to_thread(presented, server.port) == ["192.168.7.21"]
    finally:
        await server.stop(0)


async def test_without_files_the_certificate_is_fixed(tmp_path: Path) -> None:
    first = _pair("10.5.0.2")
    files = CertificateFiles(str(tmp_path / "node.crt"), str(tmp_path / "node.key"))
    _write(files, first)
    server = TlsServer(TlsListener("trustd", "127.0.0.1:0", first.crt, first.key),
                       lambda s: None)
    await server.start()
    try:
        _write(files, _pair("192.168.7.20"))
        assert await asyncio.to_thread(presented, server.port) == ["10.5.0.2"]
    finally:
        await server.stop(0)
