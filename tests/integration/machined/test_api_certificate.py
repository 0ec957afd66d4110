"""A node sandbox's apid follows the node's addresses: an address added while apid runs is
named by the certificate a new TLS handshake with apid gets (machined issues it again, apid
reads it for new connections), and apid is not restarted for it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from talos.machinery.constants import APID_PORT
from tests.integration.machined.node import _CA, running_node

pytestmark = [pytest.mark.root, pytest.mark.requires("unshare", "nsenter", "ip")]

ROOT = str(Path(__file__).resolve().parents[3])

#: a TLS handshake with apid from inside the node's network namespace (real TLS)
HANDSHAKE = """
import sys
sys.path.insert(0, sys.argv[1])
from tests.tls_peer import presented_addresses
print(" ".join(presented_addresses(int(sys.argv[2]), sys.stdin.buffer.read())))
"""


def in_node(pid: int, *argv: str, stdin: bytes = b"") -> str:
    done = subprocess.run(["nsenter", "-t", str(pid), "-n", *argv], input=stdin,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode()


def presented(pid: int) -> list[str]:
    try:
        return in_node(pid, sys.executable, "-c", HANDSHAKE, ROOT, str(APID_PORT),
                       stdin=_CA.crt).split()
    except AssertionError:
        return []  # apid not listening yet


async def _until_presented(pid: int, address: str) -> list[str]:
    while True:  # the node reads its addresses every few seconds: poll, never time it
        names = await asyncio.to_thread(presented, pid)
        if address in names:
            return names
        await asyncio.sleep(0.2)


async def test_an_address_added_while_apid_runs_is_in_its_certificate(tmp_path: Path) -> None:
    async with running_node(tmp_path / "n", hostname="addr-test") as node:
        await node.wait_boot()
        pid = node.sandbox.pid
        for cmd in (("ip", "link", "set", "lo", "up"),
                    ("ip", "link", "add", "eth9", "type", "veth", "peer", "name", "eth9p"),
                    ("ip", "addr", "add", "192.0.2.10/24", "dev", "eth9"),
                    ("ip", "link", "set", "eth9", "up"), ("ip", "link", "set", "eth9p", "up")):
            await asyncio.to_thread(in_node, pid, *cmd)
        first = await _until_presented(pid, "192.0.2.10")
        assert "192.0.2.77" not in first
        starts = [e.state for e in (await node.services())["apid"].events.events]

        await asyncio.to_thread(in_node, pid, "ip", "addr", "add", "192.0.2.77/24",
                                "dev", "eth9")
        assert "192.0.2.77" in await _until_presented(pid, "192.0.2.77")
        after = [e.state for e in (await node.services())["apid"].events.events]
        assert after[:len(starts)] == starts and "Starting" not in after[len(starts):], after
