"""A small SNTP (RFC 4330) client: one query, the server's time and our offset from it.

machined queries only servers the machine config names (`machine.time.servers`); a sandbox
node shares the host kernel's clock, so the answer is observed (TimeStatus, TimeService) and
never used to step the clock.
"""

from __future__ import annotations

import asyncio
import struct
import time
from dataclasses import dataclass
from typing import Any

from talos.machinery.errors import InvalidArgument, Unavailable

NTP_PORT = 123
#: seconds from 1900-01-01 (NTP era 0) to 1970-01-01
NTP_UNIX_OFFSET = 2_208_988_800
PACKET = struct.Struct("!BBbb11I")  # 48 bytes: flags, stratum, poll, precision, 11 words


@dataclass(frozen=True)
class Sample:
    server: str
    #: local clock when the reply arrived (unix ns)
    local_ns: int
    #: the server's clock at that moment (unix ns), i.e. local_ns + offset
    remote_ns: int
    offset_ns: int
    rtt_ns: int


def split_server(server: str) -> tuple[str, int]:
    """`host`, `host:port`, `[v6]:port` -> (host, port)."""
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else NTP_PORT
    if server.count(":") == 1:
        host, port = server.split(":")
        if not port.isdigit():
            raise InvalidArgument(f"time server {server!r}: port is not a number")
        return host, int(port)
    return server, NTP_PORT


def _to_ntp(ns: int) -> tuple[int, int]:
    secs, frac = divmod(ns, 1_000_000_000)
    return secs + NTP_UNIX_OFFSET, (frac << 32) // 1_000_000_000


def _from_ntp(secs: int, frac: int) -> int:
    return (secs - NTP_UNIX_OFFSET) * 1_000_000_000 + (frac * 1_000_000_000 >> 32)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.reply: asyncio.Future[tuple[bytes, int]] = \
            asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: object) -> None:
        if not self.reply.done():
            self.reply.set_result((data, time.time_ns()))

    def error_received(self, exc: Exception) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc)


async def query(server: str, wait: float = 2.0) -> Sample:
    """One SNTP exchange with `server`; Unavailable (naming the server) when it fails."""
    host, port = split_server(server)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(wait):
            transport, proto = await loop.create_datagram_endpoint(
                _Protocol, remote_addr=(host, port))
            try:
                t1 = time.time_ns()
                secs, frac = _to_ntp(t1)
                words = [0] * 11
                words[9], words[10] = secs, frac  # transmit timestamp
                transport.sendto(PACKET.pack(0x23, 0, 0, 0, *words))  # LI 0, VN 4, client
                data, t4 = await proto.reply
            finally:
                transport.close()
    except TimeoutError:
        raise Unavailable(f"time server {server}: no answer within {wait:g}s") from None
    except OSError as exc:
        raise Unavailable(f"time server {server}: {exc.strerror or exc}") from None
    if len(data) < PACKET.size:
        raise Unavailable(f"time server {server}: short reply ({len(data)} bytes)")
    flags, stratum, _poll, _prec, *w = PACKET.unpack(data[:PACKET.size])
    if flags & 0x07 not in (4, 5) or stratum == 0:
        raise Unavailable(f"time server {server}: not a server reply (mode {flags & 7}, "
                          f"stratum {stratum})")
    if (w[5], w[6]) != (secs, frac):
        raise Unavailable(f"time server {server}: reply does not answer our request")
    t2, t3 = _from_ntp(w[7], w[8]), _from_ntp(w[9], w[10])
    offset = ((t2 - t1) + (t3 - t4)) // 2
    return Sample(server, t4, t4 + offset, offset, (t4 - t1) - (t3 - t2))


class Responder(asyncio.DatagramProtocol):
    """A minimal SNTP server (for tests and local clusters): answers with the local clock
    shifted by `offset_ns`."""

    def __init__(self, offset_ns: int = 0) -> None:
        self.offset_ns = offset_ns
        self.transport: Any = None
        self.queries = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < PACKET.size or self.transport is None:
            return
        self.queries += 1
        _f, _s, _p, _pr, *w = PACKET.unpack(data[:PACKET.size])
        now = _to_ntp(time.time_ns() + self.offset_ns)
        words = [0] * 11
        words[5], words[6] = w[9], w[10]  # origin = client's transmit
        words[7], words[8] = now           # receive
        words[9], words[10] = now          # transmit
        self.transport.sendto(PACKET.pack(0x24, 2, 6, -20, *words), addr)
