"""The boot-time DHCP client: its requests are BOOTREQUESTs a server accepts, and a server's
answer becomes a lease (address, prefix, router, hostname, DNS)."""

from __future__ import annotations

import socket
import struct

from talos.machined.platform import dhcp

MAC = bytes.fromhex("525400123456")


def _reply(kind: int, xid: int, yiaddr: str, options: list[tuple[int, bytes]]) -> bytes:
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 2, 1, 6, 0, xid, 0, 0x8000,
                       b"\0" * 4, socket.inet_aton(yiaddr), b"\0" * 4, b"\0" * 4,
                       MAC.ljust(16, b"\0"), b"", b"")
    return head + dhcp._options([(dhcp.OPT_MSG_TYPE, bytes([kind])), *options])


def test_a_discover_is_a_broadcast_bootrequest_from_our_mac():
    msg = dhcp.message(dhcp.DISCOVER, 0x1234, MAC)
    assert msg[0] == 1 and struct.unpack_from("!I", msg, 4)[0] == 0x1234
    assert struct.unpack_from("!H", msg, 10)[0] == 0x8000  # answer by broadcast
    assert msg[28:34] == MAC
    assert msg[236:240] == dhcp.MAGIC
    assert bytes([dhcp.OPT_MSG_TYPE, 1, dhcp.DISCOVER]) in msg[240:]


def test_an_ack_becomes_a_lease():
    packet = _reply(dhcp.ACK, 7, "10.0.2.15", [
        (dhcp.OPT_SUBNET, socket.inet_aton("255.255.255.0")),
        (dhcp.OPT_ROUTER, socket.inet_aton("10.0.2.2")),
        (dhcp.OPT_DNS, socket.inet_aton("10.0.2.3")),
        (dhcp.OPT_HOSTNAME, b"node-1"),
        (dhcp.OPT_SERVER_ID, socket.inet_aton("10.0.2.2")),
        (dhcp.OPT_LEASE, struct.pack("!I", 86400)),
    ])
    kind, address, options = dhcp.parse(packet, 7)
    assert kind == dhcp.ACK
    assert dhcp.lease_from(address, options) == dhcp.Lease(
        "10.0.2.15", 24, "10.0.2.2", "node-1", ("10.0.2.3",), "10.0.2.2", 86400)


def test_an_answer_to_another_transaction_or_garbage_is_ignored():
    assert dhcp.parse(_reply(dhcp.OFFER, 8, "10.0.2.15", []), 7) is None
    assert dhcp.parse(b"\x02" * 100, 7) is None
