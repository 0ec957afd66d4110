"""A DHCPv4 client (RFC 2131): `acquire` (DISCOVER, OFFER, REQUEST, ACK on one link) for
the boot (`metal.configure_network`) and the DHCP operator
(machined/controllers/network/dhcp_operator.py), and `renew` (a REQUEST from the leased
address: unicast to the server at T1, broadcast at T2, RFC 2131 4.3.2), which the operator
calls to keep a lease.

Deliberately small: plain UDP sockets bound to the link (SO_BINDTODEVICE) with the broadcast
flag set, so the server broadcasts its answers to a link that has no address yet. Not done:
releasing a lease (DHCPRELEASE), DHCPv6.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import time
from dataclasses import dataclass

CLIENT_PORT, SERVER_PORT = 68, 67
MAGIC = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, ACK, NAK = 1, 2, 3, 5, 6
OPT_SUBNET, OPT_ROUTER, OPT_DNS, OPT_HOSTNAME, OPT_REQUESTED_IP = 1, 3, 6, 12, 50
OPT_LEASE, OPT_MSG_TYPE, OPT_SERVER_ID, OPT_PARAMS, OPT_END = 51, 53, 54, 55, 255
OPT_RENEWAL, OPT_REBINDING = 58, 59
SO_BINDTODEVICE = 25


@dataclass(frozen=True)
class Lease:
    address: str
    prefixlen: int
    gateway: str | None
    hostname: str | None
    dns: tuple[str, ...]
    server: str
    lease_s: int
    #: T1 and T2 (seconds after the ACK): the server's options 58/59, else RFC 2131's
    #: defaults (half and seven eighths of the lease)
    renewal_s: float = 0.0
    rebinding_s: float = 0.0

    @property
    def t1(self) -> float:
        return self.renewal_s or self.lease_s / 2

    @property
    def t2(self) -> float:
        return self.rebinding_s or self.lease_s * 7 / 8

    def to_json(self) -> dict[str, object]:
        return dict(address=self.address, prefixlen=self.prefixlen, gateway=self.gateway,
                    hostname=self.hostname, dns=list(self.dns), server=self.server,
                    lease_s=self.lease_s, renewal_s=self.renewal_s,
                    rebinding_s=self.rebinding_s)

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> Lease:
        return cls(address=str(raw["address"]), prefixlen=int(str(raw["prefixlen"])),
                   gateway=str(raw["gateway"]) if raw.get("gateway") else None,
                   hostname=str(raw["hostname"]) if raw.get("hostname") else None,
                   dns=tuple(str(d) for d in _list(raw.get("dns"))),
                   server=str(raw["server"]),
                   lease_s=int(str(raw["lease_s"])),
                   renewal_s=float(str(raw.get("renewal_s") or 0)),
                   rebinding_s=float(str(raw.get("rebinding_s") or 0)))


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _options(pairs: list[tuple[int, bytes]]) -> bytes:
    out = MAGIC
    for code, value in pairs:
        out += bytes([code, len(value)]) + value
    return out + bytes([OPT_END])


def message(kind: int, xid: int, mac: bytes,
            extra: tuple[tuple[int, bytes], ...] = (), ciaddr: str = "") -> bytes:
    """A BOOTREQUEST of DHCP message type `kind` from `mac` (from the address `ciaddr`
    when renewing: no broadcast flag then, the server answers it by unicast)."""
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0,
                       0 if ciaddr else 0x8000,
                       socket.inet_aton(ciaddr) if ciaddr else b"\0" * 4, b"\0" * 4,
                       b"\0" * 4, b"\0" * 4, mac.ljust(16, b"\0"), b"", b"")
    params = bytes([OPT_SUBNET, OPT_ROUTER, OPT_DNS, OPT_HOSTNAME, OPT_LEASE, OPT_RENEWAL,
                    OPT_REBINDING])
    return head + _options([(OPT_MSG_TYPE, bytes([kind])), *extra, (OPT_PARAMS, params)])


def parse(packet: bytes, xid: int) -> tuple[int, str, dict[int, bytes]] | None:
    """(message type, offered address, options) of a BOOTREPLY for `xid`; None otherwise."""
    if len(packet) < 240 or packet[0] != 2 or packet[236:240] != MAGIC:
        return None
    if struct.unpack_from("!I", packet, 4)[0] != xid:
        return None
    options: dict[int, bytes] = {}
    i = 240
    while i < len(packet):
        code = packet[i]
        if code == OPT_END:
            break
        if code == 0:
            i += 1
            continue
        if i + 1 >= len(packet):
            break
        length = packet[i + 1]
        options[code] = packet[i + 2:i + 2 + length]
        i += 2 + length
    kind = options.get(OPT_MSG_TYPE, b"\0")[0]
    return kind, socket.inet_ntoa(packet[16:20]), options


def lease_from(address: str, options: dict[int, bytes]) -> Lease:
    mask = options.get(OPT_SUBNET)
    prefix = (ipaddress.ip_network(f"0.0.0.0/{socket.inet_ntoa(mask)}").prefixlen if mask
              else 24)
    router = options.get(OPT_ROUTER)
    dns = options.get(OPT_DNS, b"")
    hostname = options.get(OPT_HOSTNAME)
    return Lease(
        address=address, prefixlen=prefix,
        gateway=socket.inet_ntoa(router[:4]) if router and len(router) >= 4 else None,
        hostname=hostname.decode(errors="replace").strip("\0") or None if hostname else None,
        dns=tuple(socket.inet_ntoa(dns[i:i + 4]) for i in range(0, len(dns) - 3, 4)),
        server=socket.inet_ntoa(options.get(OPT_SERVER_ID, b"\0\0\0\0")[:4]),
        lease_s=_seconds(options, OPT_LEASE),
        renewal_s=float(_seconds(options, OPT_RENEWAL)),
        rebinding_s=float(_seconds(options, OPT_REBINDING)))


def _seconds(options: dict[int, bytes], code: int) -> int:
    value = options.get(code, b"")
    return int(struct.unpack("!I", value)[0]) if len(value) == 4 else 0


def _exchange(sock: socket.socket, request: bytes, xid: int, want: set[int],
              deadline: float, to: str = "255.255.255.255"
              ) -> tuple[int, str, dict[int, bytes]] | None:
    sock.sendto(request, (to, SERVER_PORT))
    resend = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, min(resend, deadline) - time.monotonic()))
        try:
            packet = sock.recv(4096)
        except TimeoutError:
            if time.monotonic() >= resend:  # lost on the wire: ask again
                sock.sendto(request, (to, SERVER_PORT))
                resend = time.monotonic() + 4.0
            continue
        reply = parse(packet, xid)
        if reply is not None and reply[0] in want:
            return reply
    return None


def _socket(ifname: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, ifname.encode())
        sock.bind(("0.0.0.0", CLIENT_PORT))
    except OSError:
        sock.close()
        raise
    return sock


def renew(ifname: str, mac: bytes, lease: Lease, *, broadcast: bool = False,
          timeout_s: float = 10.0) -> Lease | None:
    """Extend `lease` (RENEWING: unicast to its server; REBINDING with `broadcast`: to any
    server): the new lease, or None on a NAK or when no server answers in time."""
    xid = int.from_bytes(os.urandom(4), "big")
    deadline = time.monotonic() + timeout_s
    with _socket(ifname) as sock:
        req = message(REQUEST, xid, mac, ciaddr=lease.address)
        to = "255.255.255.255" if broadcast or lease.server in ("", "0.0.0.0") \
            else lease.server
        ack = _exchange(sock, req, xid, {ACK, NAK}, deadline, to=to)
    if ack is None or ack[0] != ACK:
        return None
    return lease_from(ack[1] if ack[1] != "0.0.0.0" else lease.address, ack[2])


def acquire(ifname: str, mac: bytes, timeout_s: float = 30.0) -> Lease | None:
    """A lease for `ifname` (which must be up), or None when no server answers in time."""
    xid = int.from_bytes(os.urandom(4), "big")
    deadline = time.monotonic() + timeout_s
    with _socket(ifname) as sock:
        offer = _exchange(sock, message(DISCOVER, xid, mac), xid, {OFFER}, deadline)
        if offer is None:
            return None
        _, address, options = offer
        server = options.get(OPT_SERVER_ID, b"")
        req = message(REQUEST, xid, mac, ((OPT_REQUESTED_IP, socket.inet_aton(address)),
                                          (OPT_SERVER_ID, server)))
        ack = _exchange(sock, req, xid, {ACK, NAK}, deadline)
        if ack is None or ack[0] != ACK:
            return None
        return lease_from(ack[1], ack[2])
