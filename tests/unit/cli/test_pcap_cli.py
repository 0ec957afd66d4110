"""`talosctl pcap`: the filter as `tcpdump -dd` prints it (upstream's form) or as an
expression compiled with the local tcpdump, and the default one-line-per-packet output."""

from __future__ import annotations

import re
import struct

import click
import pytest

from talos.talosctl.pcap import PcapPrinter, bpf_program, parse_bpf_instructions

DD = """{ 0x28, 0, 0, 0x0000000c },
{ 0x15, 0, 3, 0x00000800 },
{ 0x30, 0, 0, 0x00000017 },
{ 0x15, 0, 1, 0x00000001 },
{ 0x6, 0, 0, 0x00040000 },
{ 0x6, 0, 0, 0x00000000 },
"""


def test_tcpdump_dd_instructions_are_parsed_as_upstream() -> None:
    prog = parse_bpf_instructions(DD)
    assert prog[0] == (0x28, 0, 0, 0x0C) and prog[1] == (0x15, 0, 3, 0x800)
    assert len(prog) == 6
    assert bpf_program("") == []


def test_a_bad_instruction_line_is_named() -> None:
    with pytest.raises(click.BadParameter, match=re.escape("'{ 0x28, zero }'")):
        parse_bpf_instructions("{ 0x28, zero }")


@pytest.mark.requires("tcpdump")
def test_an_expression_is_compiled_with_tcpdump() -> None:
    assert bpf_program("icmp") == parse_bpf_instructions(DD)
    with pytest.raises(click.BadParameter, match="filter expression 'port banana'"):
        bpf_program("port banana")


def test_default_output_prints_one_line_per_packet_across_chunks() -> None:
    ip = bytes.fromhex("45000021000100004011") + b"\0\0" + bytes([10, 5, 0, 1, 10, 5, 0, 2])
    udp = struct.pack("!HHHH", 40000, 53, 13, 0) + b"hello"
    frame = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x00" + ip + udp
    arp = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x06" + b"\0" * 28
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 4096, 1)
    for pkt in (frame, arp):
        data += struct.pack("<IIII", 0, 5, len(pkt), len(pkt)) + pkt
    lines: list[str] = []
    printer = PcapPrinter(lines.append)
    for i in range(0, len(data), 7):  # any chunking
        printer.feed(data[i:i + 7])
    assert len(lines) == 2, lines
    assert lines[0].endswith("IP 10.5.0.1.40000 > 10.5.0.2.53: UDP, length 33"), lines
    assert lines[1].endswith("02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, length 42"), lines
