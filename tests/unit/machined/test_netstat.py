"""machined's netstat reads this process's own sockets back from /proc/net correctly.

Every check finds the test's sockets by inode, so other sockets on the host don't matter.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talos.api.machine import machine_pb2 as m
from talos.machined.server import netstat
from talos.machinery.errors import InvalidArgument, NotFound
from tests.sockets import tcp_pair

ALL = m.NetstatRequest.ALL
LISTENING = m.NetstatRequest.LISTENING
CONNECTED = m.NetstatRequest.CONNECTED


def _query(flt: int = ALL, pid: bool = False, protos: tuple[str, ...] = netstat.PROTOCOLS,
           netns: tuple[str, ...] = ()) -> netstat.Query:
    return netstat.Query(protocols=protos, filter=flt, pid=pid, hostnetwork=True,
                         netns=netns, allnetns=False)


def _inode(sock: socket.socket) -> int:
    return os.stat(f"/proc/self/fd/{sock.fileno()}").st_ino


def _by_inode(q: netstat.Query, sock: socket.socket, tmp: str = "/nonexistent"
              ) -> list[m.ConnectRecord]:
    ino = _inode(sock)
    return [r for r in netstat.netstat(q, tmp) if r.inode == ino]


def _kernel_hex(addr: str) -> str:
    packed = ipaddress.ip_address(addr).packed
    return "".join(f"{struct.unpack('=I', packed[i:i + 4])[0]:08X}"
                   for i in range(0, len(packed), 4))


@given(st.ip_addresses())
def test_addresses_decode_like_go(addr: ipaddress.IPv4Address | ipaddress.IPv6Address
                                  ) -> None:
    text = netstat._ip(_kernel_hex(str(addr)))
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        assert text == str(addr.ipv4_mapped)  # Go prints v4-mapped addresses as IPv4
    else:
        assert text == str(addr)


@pytest.fixture(name="tcp_pair")
def tcp_pair_fixture() -> Iterator[tuple[socket.socket, socket.socket, socket.socket]]:
    with tcp_pair() as sockets:
        yield sockets


def test_tcp_listener_and_connection(tcp_pair: tuple[socket.socket, ...]) -> None:
    lst, cli, _srv = tcp_pair
    [listen] = _by_inode(_query(LISTENING, pid=True), lst)
    assert listen.l4proto == "tcp" and listen.state == m.ConnectRecord.LISTEN
    assert (listen.localip, listen.localport) == lst.getsockname()
    assert (listen.remoteip, listen.remoteport) == ("0.0.0.0", 0)
    assert listen.uid == os.getuid()
    assert listen.process.pid == os.getpid()
    assert _by_inode(_query(CONNECTED), lst) == []
    [conn] = _by_inode(_query(CONNECTED), cli)
    assert conn.state == m.ConnectRecord.ESTABLISHED
    assert (conn.remoteip, conn.remoteport) == lst.getsockname()
    assert conn.process.pid == 0  # only filled when asked for
    assert _by_inode(_query(LISTENING), cli) == []
    assert _by_inode(_query(ALL, protos=("udp", "tcp6")), cli) == []


def test_udp_sockets() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        [rec] = _by_inode(_query(LISTENING), udp)
        assert rec.l4proto == "udp" and rec.state == m.ConnectRecord.CLOSE
        udp.connect(("127.0.0.1", 9))
        [rec] = _by_inode(_query(CONNECTED), udp)
        assert rec.state == m.ConnectRecord.ESTABLISHED and rec.remoteport == 9


@pytest.mark.requires("ipv6")
def test_ipv6_sockets() -> None:
    with socket.socket(socket.AF_INET6) as v6:
        v6.bind(("::1", 0))
        v6.listen()
        [rec] = _by_inode(_query(LISTENING), v6)
        assert rec.l4proto == "tcp6" and rec.localip == "::1"
        assert rec.localport == v6.getsockname()[1] and rec.remoteip == "::"


def test_bad_requests_name_the_field(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(InvalidArgument, match=r"netns\.netns: '\.\.' is not"):
        netstat.Query.from_request(m.NetstatRequest(netns=m.NetstatRequest.NetNS(
            netns=[".."])))
    with pytest.raises(InvalidArgument, match="filter: unknown value 9"):
        netstat.Query.from_request(m.NetstatRequest(filter=9))  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="no network namespace named 'x'"):
        netstat.netstat(_query(netns=("x",)), str(tmp_path))


def test_allnetns_without_named_namespaces_reads_only_the_node(tmp_path: os.PathLike[str]
                                                               ) -> None:
    q = netstat.Query(protocols=("tcp",), filter=ALL, pid=False, hostnetwork=False,
                      netns=(), allnetns=True)
    assert netstat.netstat(q, os.path.join(str(tmp_path), "absent")) == []
