"""`talosctl pcap` (alias `tcpdump`): capture packets on a node's interface (Talos v1.13.9).

The node streams a pcap file. `-o FILE` saves it, `-o -` writes it to stdout (for
`| tcpdump -r -`); without `-o` each packet is printed as one summary line (upstream prints
gopacket's layer dump; the summary here is tcpdump-like and shorter). `--duration` ends the
capture after that long (a client-side deadline, as upstream: not an error); Ctrl-C ends it
too, with whatever was captured already written.

`--bpf-filter` takes the instructions `tcpdump -dd` prints, as upstream. Added here: a value
that is not in that form is taken as a tcpdump filter expression and compiled on this
machine with `tcpdump -dd -y EN10MB` (so it needs tcpdump; links without a hardware header,
such as WireGuard, need `-y RAW` instructions given in the `-dd` form).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from typing import IO, Any

import click

from talos.talosctl.nodeapi import Session, call, target
from talos.talosctl.timefmt import DURATION

_INSTRUCTION = re.compile(r"^\{\s*0x([0-9a-fA-F]+),\s*(\d+),\s*(\d+),\s*0x([0-9a-fA-F]+)\s*\},?$")


def parse_bpf_instructions(text: str) -> list[tuple[int, int, int, int]]:
    """`tcpdump -dd` output -> (op, jt, jf, k) per line; a bad line is a usage error."""
    out = []
    for line in text.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        match = _INSTRUCTION.match(line)
        if match is None:
            raise click.BadParameter(f"error parsing bpf instruction {line!r} (expected "
                                     "`{ 0x28, 0, 0, 0x0000000c },` as `tcpdump -dd` prints)",
                                     param_hint="--bpf-filter")
        op, jt, jf, k = match.groups()
        out.append((int(op, 16), int(jt), int(jf), int(k, 16)))
    return out


def compile_expression(expr: str) -> list[tuple[int, int, int, int]]:
    """A tcpdump filter expression compiled for Ethernet links by the local tcpdump."""
    tcpdump = shutil.which("tcpdump")
    if tcpdump is None:
        raise click.BadParameter(
            "not `tcpdump -dd` instructions, and compiling it as a filter expression needs "
            "tcpdump on this machine (apt-get install tcpdump)", param_hint="--bpf-filter")
    res = subprocess.run([tcpdump, "-dd", "-y", "EN10MB", expr], capture_output=True,
                         text=True, check=False, stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        reason = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "failed"
        raise click.BadParameter(f"filter expression {expr!r}: {reason}",
                                 param_hint="--bpf-filter")
    return parse_bpf_instructions(res.stdout)


def bpf_program(value: str) -> list[tuple[int, int, int, int]]:
    value = value.strip()
    if not value:
        return []
    if value.startswith("{"):
        return parse_bpf_instructions(value)
    return compile_expression(value)


# -- a short decoder for the default output ---------------------------------------------------

_PCAP_HEADER = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")
_ETHERTYPES = {0x0800: "IP", 0x86DD: "IP6", 0x0806: "ARP"}
_IP_PROTOS = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMP6"}


def _ports(proto: int, payload: bytes) -> tuple[str, str, str]:
    if proto in (6, 17) and len(payload) >= 4:
        sport, dport = struct.unpack_from("!HH", payload)
        return f".{sport}", f".{dport}", ""
    if proto in (1, 58) and len(payload) >= 2:
        return "", "", f" type {payload[0]} code {payload[1]}"
    return "", "", ""


def _ip(packet: bytes) -> str:
    version = packet[0] >> 4 if packet else 0
    if version == 4 and len(packet) >= 20:
        ihl = (packet[0] & 0x0F) * 4
        proto, src, dst = packet[9], packet[12:16], packet[16:20]
        length = struct.unpack_from("!H", packet, 2)[0]
        name = "IP"
    elif version == 6 and len(packet) >= 40:
        ihl, proto, src, dst = 40, packet[6], packet[8:24], packet[24:40]
        length = 40 + struct.unpack_from("!H", packet, 4)[0]
        name = "IP6"
    else:
        return f"unknown, length {len(packet)}"
    sport, dport, extra = _ports(proto, packet[ihl:])
    pname = _IP_PROTOS.get(proto, f"proto {proto}")
    return (f"{name} {ipaddress.ip_address(bytes(src))}{sport} > "
            f"{ipaddress.ip_address(bytes(dst))}{dport}: {pname}{extra}, length {length}")


def summary(linktype: int, data: bytes) -> str:
    """One line per packet: addresses, protocol, ports."""
    if linktype != 1:
        return _ip(data)
    if len(data) < 14:
        return f"truncated frame, length {len(data)}"
    ethertype = struct.unpack_from("!H", data, 12)[0]
    if ethertype in (0x0800, 0x86DD):
        return _ip(data[14:])
    mac = ":".join(f"{b:02x}" for b in data[6:12])
    return f"{mac} > {':'.join(f'{b:02x}' for b in data[:6])}, " \
           f"{_ETHERTYPES.get(ethertype, f'ethertype 0x{ethertype:04x}')}, length {len(data)}"


class PcapPrinter:
    """Feed pcap bytes in any chunking; prints each complete packet as a summary line."""

    def __init__(self, out: Callable[[str], None]) -> None:
        self.out = out
        self.buf = bytearray()
        self.linktype: int | None = None

    def feed(self, chunk: bytes) -> None:
        self.buf += chunk
        if self.linktype is None:
            if len(self.buf) < _PCAP_HEADER.size:
                return
            self.linktype = _PCAP_HEADER.unpack_from(self.buf)[6]
            del self.buf[:_PCAP_HEADER.size]
        while len(self.buf) >= _RECORD.size:
            sec, usec, caplen, _orig = _RECORD.unpack_from(self.buf)
            end = _RECORD.size + caplen
            if len(self.buf) < end:
                return
            data = bytes(self.buf[_RECORD.size:end])
            del self.buf[:end]
            stamp = time.strftime("%H:%M:%S", time.localtime(sec)) + f".{usec:06d}"
            self.out(f"{stamp} {summary(self.linktype, data)}")


@click.command(name="pcap")
@click.option("-i", "--interface", default="eth0", show_default=True,
              help="interface name to capture packets on")
@click.option("--promiscuous", is_flag=True, help="put interface into promiscuous mode")
@click.option("-s", "--snaplen", type=int, default=4096, show_default=True, hidden=True,
              help="maximum packet size to capture (deprecated: support of snap length is "
                   "removed)")
@click.option("-o", "--output", default="",
              help="if not set, decode packets to stdout; if set write raw pcap data to a "
                   "file, use '-' for stdout")
@click.option("--bpf-filter", default="",
              help="bpf filter to apply, tcpdump -dd format (or a tcpdump expression, "
                   "compiled with the local tcpdump)")
@click.option("--duration", type=DURATION, default=0.0, help="duration of the capture")
@click.pass_context
def pcap(ctx: click.Context, interface: str, promiscuous: bool, snaplen: int, output: str,
         bpf_filter: str, duration: float) -> None:
    """Capture the network packets from the node.

    The command launches packet capture on the node and streams back the packets as raw
    pcap file.

    \b
    Examples:
      talosctl pcap -i eth0
      talosctl pcap -i eth0 --output eth0.pcap
      talosctl pcap -i eth0 -o - | tcpdump -vvv -r -
      talosctl pcap -i eth0 --bpf-filter "$(tcpdump -dd -y EN10MB 'tcp and dst port 80')"

    As packet capture is transmitted over the network, it is recommended to filter out the
    Talos API traffic, e.g. by excluding packets with the port 50000.
    """
    from talos.api.machine import machine_pb2 as m

    if snaplen != 4096:
        click.echo('Flag --snaplen has been deprecated, support of snap length is removed',
                   err=True)
    nodes = target(ctx)
    if len(nodes) > 1:
        raise click.ClickException('command "pcap" is not supported with multiple nodes')
    req = m.PacketCaptureRequest(interface=interface, promiscuous=promiscuous, bpf_filter=[
        m.BPFInstruction(op=op, jt=jt, jf=jf, k=k)
        for op, jt, jf, k in bpf_program(bpf_filter)])

    with contextlib.ExitStack() as stack:
        sink: Callable[[bytes], None]
        if output == "":
            sink = PcapPrinter(lambda line: click.echo(line)).feed
        else:
            f: IO[bytes] = sys.stdout.buffer if output == "-" else \
                stack.enter_context(open(output, "wb"))

            def sink(data: bytes) -> None:
                f.write(data)
                f.flush()  # what was captured is written when Ctrl-C ends the capture

        async def run(s: Session) -> None:
            stream: Any = s.machine().PacketCapture(req, metadata=s.md)
            try:
                async with asyncio.timeout(duration if duration > 0 else None):
                    async for chunk in stream:
                        if chunk.metadata.error:
                            s.errors.append((s.node_of(chunk), chunk.metadata.error))
                            continue
                        sink(chunk.bytes)
            except TimeoutError:
                pass  # --duration elapsed: the capture is complete
            finally:
                stream.cancel()  # the node closes its capture socket
            s.raise_errors()

        call(ctx, run)
