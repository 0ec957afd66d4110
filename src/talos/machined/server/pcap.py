"""MachineService PacketCapture (mixed into MachineServicer): a live capture on one of the
node's interfaces, streamed as a pcap file, as Talos v1.13 does.

The capture is an AF_PACKET raw socket opened by machined itself, so it sees the links of
the network namespace machined runs in (a sandbox node's own `eth0`). The request's classic
BPF program (`tcpdump -dd` instructions, compiled by the client) is attached with
SO_ATTACH_FILTER before the socket is bound, so the kernel filters every packet and none
slips through unfiltered; `promiscuous` is a PACKET_MR_PROMISC membership, which the kernel
drops when the socket closes. The stream is a pcap global header (microsecond timestamps,
link type Ethernet, or raw IP for a link without a hardware header such as WireGuard)
followed by one record per packet, several records per `common.Data` chunk. It runs until
the client cancels (talosctl's `--duration` is a client-side deadline, as upstream).

The socket is non-blocking and waited on with the event loop's reader, never a blocking
read on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import logging
import socket
import struct
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

import grpc

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from talos.machined.server.context import NodeAPI
from talos.machinery.errors import FailedPrecondition, InvalidArgument, NotFound

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

log = logging.getLogger(__name__)

# linux/if_ether.h, linux/if_packet.h, asm-generic/socket.h, linux/if_arp.h
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_STATISTICS = 6
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35  # SCM_TIMESTAMPNS carries a struct timespec
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
ARPHRD_NONE = 0xFFFE

# pcap file format (https://www.tcpdump.org/manpages/pcap-savefile.5.html)
PCAP_MAGIC_USEC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
#: snap length when the request gives none (upstream: afpacket's default frame size)
DEFAULT_SNAPLEN = 4096
#: a packet larger than this (GSO on loopback reaches 64 KiB) is still measured exactly
RECV_BUFFER = 256 * 1024
#: records gathered into one common.Data before it is sent
CHUNK = 64 * 1024
BPF_MAXINSNS = 4096

_TIMESPEC = struct.Struct("@qq")
_PCAP_HEADER = struct.Struct("<IHHiIII")
_PCAP_RECORD = struct.Struct("<IIII")
_SOCK_FILTER = struct.Struct("@HBBI")


@dataclass(frozen=True)
class CaptureRequest:
    interface: str
    promiscuous: bool
    snaplen: int
    #: (code, jt, jf, k) per instruction; empty: every packet
    program: tuple[tuple[int, int, int, int], ...]

    @classmethod
    def from_request(cls, req: m.PacketCaptureRequest) -> CaptureRequest:
        if not req.interface:
            raise InvalidArgument("interface: the interface to capture on is required "
                                  "(e.g. eth0)")
        if len(req.bpf_filter) > BPF_MAXINSNS:
            raise InvalidArgument(f"bpf_filter: {len(req.bpf_filter)} instructions, the "
                                  f"kernel takes at most {BPF_MAXINSNS}")
        program = []
        for i, ins in enumerate(req.bpf_filter):
            if ins.op > 0xFFFF or ins.jt > 0xFF or ins.jf > 0xFF:
                raise InvalidArgument(
                    f"bpf_filter[{i}]: op must fit 16 bits and jt, jf 8 bits, got op={ins.op} "
                    f"jt={ins.jt} jf={ins.jf}")
            program.append((ins.op, ins.jt, ins.jf, ins.k))
        return cls(interface=req.interface, promiscuous=req.promiscuous,
                   snaplen=req.snap_len or DEFAULT_SNAPLEN, program=tuple(program))


def pcap_header(snaplen: int, linktype: int) -> bytes:
    """The pcap global header: version 2.4, microsecond timestamps."""
    return _PCAP_HEADER.pack(PCAP_MAGIC_USEC, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(ts_ns: int, data: bytes | memoryview, orig_len: int) -> bytes:
    sec, nsec = divmod(ts_ns, 1_000_000_000)
    return _PCAP_RECORD.pack(sec, nsec // 1000, len(data), orig_len) + bytes(data)


def _attach_filter(sock: socket.socket, program: Iterable[tuple[int, int, int, int]]) -> None:
    """SO_ATTACH_FILTER with a struct sock_fprog pointing at the instructions."""
    raw = b"".join(_SOCK_FILTER.pack(*ins) for ins in program)
    count = len(raw) // _SOCK_FILTER.size
    buf = ctypes.create_string_buffer(raw, len(raw))
    fprog = struct.pack("@HP", count, ctypes.addressof(buf))
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            raise InvalidArgument("bpf_filter: the kernel rejected the BPF program (compile it "
                                  "with `tcpdump -dd EXPR`)") from None
        raise
    finally:
        del buf  # the kernel copied the program; the buffer lived through the call


def _linktype(sock: socket.socket, interface: str) -> int:
    hatype = sock.getsockname()[3]
    if hatype in (ARPHRD_ETHER, ARPHRD_LOOPBACK):
        return LINKTYPE_ETHERNET
    if hatype == ARPHRD_NONE:
        return LINKTYPE_RAW
    raise InvalidArgument(f"interface {interface!r}: unsupported link type (ARPHRD {hatype}); "
                          "only Ethernet, loopback and links without a hardware header are "
                          "captured")


def open_capture(req: CaptureRequest) -> tuple[socket.socket, int]:
    """A bound, filtered, non-blocking AF_PACKET socket on the interface and its pcap link
    type. Protocol 0 until the filter is attached: no packet is queued unfiltered."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)
    try:
        try:
            ifindex = socket.if_nametoindex(req.interface)
        except OSError:
            raise NotFound(f"interface {req.interface!r} not found") from None
        if req.program:
            _attach_filter(sock, req.program)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        try:
            sock.bind((req.interface, ETH_P_ALL))
        except OSError as exc:
            if exc.errno == errno.ENODEV:
                raise NotFound(f"interface {req.interface!r} not found") from None
            raise FailedPrecondition(f"interface {req.interface!r}: cannot capture: "
                                     f"{exc.strerror}") from None
        linktype = _linktype(sock, req.interface)
        if req.promiscuous:
            mreq = struct.pack("@iHH8s", ifindex, PACKET_MR_PROMISC, 0, b"")
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        sock.setblocking(False)
        return sock, linktype
    except BaseException:
        sock.close()
        raise


def drain(sock: socket.socket, buf: bytearray, snaplen: int, limit: int = CHUNK) -> bytes:
    """Every packet queued now (up to about `limit` bytes of records), as pcap records."""
    out = bytearray()
    view = memoryview(buf)
    while len(out) < limit:
        try:
            n, anc, _flags, _addr = sock.recvmsg_into([buf], 64, socket.MSG_TRUNC)
        except BlockingIOError:
            break
        ts_ns = 0
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS \
                    and len(data) >= _TIMESPEC.size:
                sec, nsec = _TIMESPEC.unpack_from(data)
                ts_ns = sec * 1_000_000_000 + nsec
        caplen = min(n, snaplen, len(buf))
        out += pcap_record(ts_ns, view[:caplen], n)
    return bytes(out)


def statistics(sock: socket.socket) -> tuple[int, int]:
    """(packets, drops) the kernel counted for the socket (struct tpacket_stats)."""
    raw = sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    packets, drops = struct.unpack("@II", raw)
    return packets, drops


async def _readable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


async def capture(req: CaptureRequest) -> AsyncGenerator[bytes, None]:
    """The pcap stream: header first, then records as packets arrive, until cancelled."""
    sock, linktype = open_capture(req)
    loop = asyncio.get_running_loop()
    buf = bytearray(RECV_BUFFER)
    try:
        yield pcap_header(req.snaplen, linktype)
        while True:
            records = drain(sock, buf, req.snaplen)
            if records:
                yield records
            else:
                await _readable(loop, sock.fileno())
    finally:
        try:
            packets, drops = statistics(sock)
            log.info("pcap %s: packets captured %d, drops %d", req.interface, packets, drops)
        except OSError:
            pass
        sock.close()


class PacketCaptureMethods:
    node: NodeAPI

    async def PacketCapture(self, request: m.PacketCaptureRequest, context: Ctx
                            ) -> AsyncIterator[common_pb2.Data]:
        req = CaptureRequest.from_request(request)
        md = common_pb2.Metadata(hostname=self.node.hostname)
        async with contextlib.aclosing(capture(req)) as stream:
            async for chunk in stream:
                yield common_pb2.Data(metadata=md, bytes=chunk)
