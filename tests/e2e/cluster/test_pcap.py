"""`talosctl pcap` captures on a sandbox node's own eth0 (in its network namespace) while
the host pings it: the kernel-side filter keeps what matches, drops what does not, and the
streamed file is a pcap that tcpdump reads, from a file and through `-o - | tcpdump -r -`."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.cluster.conftest import Cluster
from tests.prerequisites import require

pytestmark = [pytest.mark.e2e, pytest.mark.root]

MakeCluster = Callable[[str], Cluster]
UDP_PORT = 7  # echo: nothing listens on the node, the packets are still on the wire


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


@contextmanager
def traffic(node: str) -> Iterator[None]:
    """ICMP echo requests (a ping) and UDP datagrams from the host to `node`, every 50 ms,
    until the block ends."""
    stop = threading.Event()

    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as icmp, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            seq = 0
            while not stop.is_set():
                seq = (seq + 1) & 0xFFFF
                head = struct.pack("!BBHHH", 8, 0, 0, os.getpid() & 0xFFFF, seq)
                body = b"talos-pcap-test"
                packet = struct.pack("!BBHHH", 8, 0, _checksum(head + body),
                                     os.getpid() & 0xFFFF, seq) + body
                icmp.sendto(packet, (node, 0))
                udp.sendto(b"talos-pcap-test", (node, UDP_PORT))
                stop.wait(0.05)

    t = threading.Thread(target=send, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()


def _read(path: Path | None, data: bytes | None = None) -> str:
    args = ["tcpdump", "-nn", "-r", str(path) if path is not None else "-"]
    res = subprocess.run(args, input=data, capture_output=True, check=False)
    assert res.returncode == 0, res.stderr.decode()
    return res.stdout.decode()


def _wait_for_size(path: Path, size: int, proc: subprocess.Popen[bytes]) -> None:
    while not (path.exists() and path.stat().st_size > size):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)


def test_pcap_captures_a_ping_to_a_node_filtered_in_the_kernel(make_cluster: MakeCluster,
                                                                tmp_path: Path) -> None:
    require("tcpdump")
    c = make_cluster("e2e-pcap")
    res = c.create("--workers", "0")
    assert res.returncode == 0, res.stderr[-3000:]
    net = ipaddress.IPv4Network(c.cidr)
    host, cp = str(net.network_address + 1), str(net.network_address + 2)
    base = [sys.executable, "-m", "talos", "talosctl", "-n", cp, "pcap", "-i", "eth0"]

    # a filter that matches: the ping shows up, the UDP datagrams do not; Ctrl-C ends it
    out = tmp_path / "icmp.pcap"
    proc = subprocess.Popen([*base, "--bpf-filter", "icmp", "-o", str(out)], env=c.env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        _wait_for_size(out, 0, proc)  # the pcap header: the socket is open and filtered
        with traffic(cp):
            _wait_for_size(out, 24, proc)  # packets after the header
            time.sleep(0.3)  # a few more pings
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in err.decode(), err.decode()
    text = _read(out)
    assert f"IP {host} > {cp}: ICMP echo request" in text, text
    assert f"IP {cp} > {host}: ICMP echo reply" in text, text
    assert "UDP" not in text and ".50000" not in text, text

    # a filter that does not match the ping, streamed to stdout into `tcpdump -r -`, ended
    # by --duration (exit 0): the UDP datagrams are there, no ICMP packet is
    udp = f"udp and dst port {UDP_PORT}"
    with traffic(cp):
        r = subprocess.run([*base, "--bpf-filter", udp, "-o", "-", "--duration", "3s"],
                           env=c.env, stdin=subprocess.DEVNULL, capture_output=True,
                           check=False, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    text = _read(None, r.stdout)
    assert f"IP {host}." in text and f"> {cp}.{UDP_PORT}: UDP" in text, text
    assert "ICMP" not in text, text

    # the instructions as `tcpdump -dd` prints them (upstream's form) work the same; the
    # default output is one summary line per packet
    dd = subprocess.run(["tcpdump", "-dd", "-y", "EN10MB", "icmp"], capture_output=True,
                        text=True, check=True).stdout
    with traffic(cp):
        r = subprocess.run([*base, "--bpf-filter", dd, "--duration", "3s"], env=c.env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           check=False, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"IP {host} > {cp}: ICMP type 8 code 0" in r.stdout, r.stdout
    assert "UDP" not in r.stdout, r.stdout

    # errors name the problem
    r = c.talosctl("-n", cp, "pcap", "-i", "nosuch0", "-o", str(tmp_path / "x.pcap"))
    assert r.returncode == 1 and "interface 'nosuch0' not found" in r.stderr, r.stderr
    r = c.talosctl("-n", cp, "pcap", "--bpf-filter", "{ 0x6, 0, 0, 0x00000000 },\nbogus")
    assert r.returncode == 2 and "bogus" in r.stderr, r.stderr
