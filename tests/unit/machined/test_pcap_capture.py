"""PacketCapture's capture: a kernel-filtered AF_PACKET socket streamed as a pcap file.

Run on the loopback of the test's own network namespace (`unshare --net`, so no other
traffic is seen), the stream is read back with tcpdump."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from talos.api.machine import machine_pb2 as m
from talos.machined.server.pcap import (
    CaptureRequest,
    capture,
    open_capture,
    pcap_header,
    pcap_record,
)
from talos.machinery.errors import InvalidArgument, NotFound

# the program `tcpdump -dd -y EN10MB 'udp dst port 9999'` prints, as the client sends it
UDP_9999 = m.PacketCaptureRequest(interface="lo", bpf_filter=[
    m.BPFInstruction(op=op, jt=jt, jf=jf, k=k) for op, jt, jf, k in [
        (0x28, 0, 0, 0x0C), (0x15, 0, 4, 0x86DD), (0x30, 0, 0, 0x14), (0x15, 0, 11, 0x11),
        (0x28, 0, 0, 0x38), (0x15, 8, 9, 0x270F), (0x15, 0, 8, 0x0800), (0x30, 0, 0, 0x17),
        (0x15, 0, 6, 0x11), (0x28, 0, 0, 0x14), (0x45, 4, 0, 0x1FFF), (0xB1, 0, 0, 0x0E),
        (0x48, 0, 0, 0x10), (0x15, 0, 1, 0x270F), (0x6, 0, 0, 0x40000), (0x6, 0, 0, 0)]])


def test_request_is_checked_before_anything_is_opened() -> None:
    with pytest.raises(InvalidArgument, match="interface: "):
        CaptureRequest.from_request(m.PacketCaptureRequest())
    bad = m.PacketCaptureRequest(interface="lo", bpf_filter=[m.BPFInstruction(op=0x10000)])
    with pytest.raises(InvalidArgument, match=r"bpf_filter\[0\]: op must fit 16 bits"):
        CaptureRequest.from_request(bad)
    assert CaptureRequest.from_request(m.PacketCaptureRequest(interface="lo")).snaplen == 4096


def test_pcap_framing_is_the_savefile_format() -> None:
    head = pcap_header(4096, 1)
    assert head[:4] == bytes.fromhex("d4c3b2a1") and len(head) == 24
    rec = pcap_record(1_700_000_000_123_456_789, b"abc", 10)
    assert rec == (1_700_000_000).to_bytes(4, "little") + (123_456).to_bytes(4, "little") \
        + (3).to_bytes(4, "little") + (10).to_bytes(4, "little") + b"abc"


@pytest.mark.root
def test_unknown_interface_and_a_program_the_kernel_rejects_are_named() -> None:
    with pytest.raises(NotFound, match="interface 'nosuch0' not found"):
        open_capture(CaptureRequest("nosuch0", False, 4096, ()))
    jump_out = ((0x15, 0, 9, 0), (0x6, 0, 0, 0))  # jumps past the end of the program
    with pytest.raises(InvalidArgument, match="bpf_filter: the kernel rejected"):
        open_capture(CaptureRequest("lo", False, 4096, jump_out))


CHILD = """
import asyncio, socket, sys
from talos.api.machine import machine_pb2 as m
from talos.machined.server.pcap import CaptureRequest, capture
from tests.unit.machined.test_pcap_capture import UDP_9999

async def main():
    subprocess_up = await asyncio.create_subprocess_exec("ip", "link", "set", "lo", "up")
    await subprocess_up.wait()
    req = CaptureRequest.from_request(UDP_9999)
    out = bytearray()
    stream = capture(req)
    out += await anext(stream)  # the header: the socket is bound and filtered
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for port in (9999, 9998, 9999):
        udp.sendto(b"x" * 5000, ("127.0.0.1", port))
    while out.count(b"x" * 100) < 4:  # each datagram is seen going out and coming in
        out += await anext(stream)
    await stream.aclose()  # closes the socket
    sys.stdout.buffer.write(out)

asyncio.run(main())
"""


@pytest.mark.root
@pytest.mark.requires("unshare", "tcpdump", "ip")
def test_capture_keeps_what_the_filter_matches_and_truncates_to_the_snap_length(
        tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": f"{root}:{root / 'src'}"}
    res = subprocess.run(["unshare", "--net", sys.executable, "-c", CHILD], cwd=root, env=env,
                         capture_output=True, check=False, timeout=120)
    assert res.returncode == 0, res.stderr.decode()
    path = tmp_path / "lo.pcap"
    path.write_bytes(res.stdout)
    text = subprocess.run(["tcpdump", "-nn", "-r", str(path)], capture_output=True,
                          text=True, check=True).stdout
    lines = text.splitlines()
    assert len(lines) == 4 and all("127.0.0.1.9999: UDP, length 5000" in ln for ln in lines), \
        text
    # records are cut at the snap length, the original length kept
    assert len(res.stdout) == 24 + 4 * (16 + 4096)


@pytest.mark.root
async def test_cancelling_the_stream_closes_the_socket() -> None:
    before = set(os.listdir("/proc/self/fd"))
    stream = capture(CaptureRequest.from_request(UDP_9999))
    await anext(stream)
    task = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert set(os.listdir("/proc/self/fd")) <= before
