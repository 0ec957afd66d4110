"""A node pulls from a registry that asks for credentials once
machine.registries.config.<host>.auth names them: a real docker-registry over TLS (the
helpers of test_registry_tls.py) with htpasswd auth (bcrypt), pulled by the node's
containerd through ImageService.Pull. Without auth the pull fails naming the auth setting;
wrong credentials fail naming the registry; the right ones (username/password, or `auth`)
pull. The password is never on a command line (what `talosctl processes` shows) nor in the
node's log, and the private hosts directory that held the header is gone afterwards."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest

from .node import Node, running_node
from .test_registry_tls import (
    HOST,
    REF,
    _apply,
    _certificates,
    _in_node_net,
    _pull,
    _push,
    _start_registry,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # Debian's libxcrypt does bcrypt ($2b$), what docker-registry's htpasswd wants

pytestmark = [pytest.mark.root,
              pytest.mark.requires("unshare", "containerd", "ctr", "docker-registry",
                                   "nsenter")]

USER = "alice"
PASSWORD = "pa55-for-the-registry-test"


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _wait_listening(node: Node, host: str) -> None:
    """Until something accepts TCP on `host` in the node's network namespace."""
    name, _, port = host.rpartition(":")
    code = ("import socket, sys, time\n"
            "for _ in range(200):\n"
            "    try:\n"
            f"        socket.create_connection(({name!r}, {port}), timeout=1).close()\n"
            "        sys.exit(0)\n"
            "    except OSError:\n"
            "        time.sleep(0.1)\n"
            "sys.exit(1)\n")
    subprocess.run(_in_node_net(node, sys.executable, "-c", code), check=True)


@contextmanager
def _command_lines() -> Iterator[list[bytes]]:
    """Every process command line seen on the host (a superset of the node's, what
    `talosctl processes` lists) while the block runs."""
    seen: list[bytes] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        with open(f"/proc/{pid}/cmdline", "rb") as f:
                            line = f.read()
                    except OSError:
                        continue
                    if line and line not in seen:
                        seen.append(line)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        yield seen
    finally:
        stop.set()
        t.join()


async def test_a_registry_with_htpasswd_auth_is_pulled_with_the_configured_credentials(
        tmp_path: Path) -> None:
    d = tmp_path / "registry"
    d.mkdir()
    ca, _, _ = _certificates(d)
    salt = crypt.mksalt(crypt.METHOD_BLOWFISH)
    (d / "htpasswd").write_text(f"{USER}:{crypt.crypt(PASSWORD, salt)}\n")
    tls = f"          ca: {_b64(ca)}\n"
    async with running_node(tmp_path / "n", hostname="registry-auth") as node:
        registry = _start_registry(node, d)
        try:
            _push(node, d)
            registry.kill()
            registry.wait()
            registry = _start_registry(node, d, "auth:\n  htpasswd:\n    realm: test\n"
                                                f"    path: {d / 'htpasswd'}\n")
            _wait_listening(node, HOST)
            await node.wait_service("containerd", "running")

            # no credentials configured: the registry's 401, and where they go
            await _apply(node, tls)
            code, details = await _pull(node)
            assert code == grpc.StatusCode.FAILED_PRECONDITION, details
            assert "401 Unauthorized" in details, details
            assert f"machine.registries.config.{HOST}.auth" in details, details

            # wrong credentials: refused before ctr runs, naming the registry
            await _apply(node, tls, auth=f"          username: {USER}\n"
                                         "          password: not-the-password\n")
            assert await _pull(node) == (
                grpc.StatusCode.FAILED_PRECONDITION,
                f"pull {REF}: registry {HOST}: authentication failed (401)")

            # the right ones, as username/password and as `auth`
            await _apply(node, tls, auth=f"          username: {USER}\n"
                                         f"          password: {PASSWORD}\n")
            with _command_lines() as seen:
                assert await _pull(node) == (grpc.StatusCode.OK, "")
                await _apply(node, tls, auth="          auth: "
                             f"{_b64(f'{USER}:{PASSWORD}'.encode())}\n")
                assert await _pull(node) == (grpc.StatusCode.OK, "")
            pulls = [c for c in seen if b"ctr\0" in c and b"\0pull\0" in c]
            assert pulls, "no ctr pull was seen running"
            secrets = (PASSWORD.encode(), _b64(f"{USER}:{PASSWORD}".encode()).encode())
            for line in seen:
                assert not any(s in line for s in secrets), line.replace(b"\0", b" ")

            log = node.sandbox.log_path.read_bytes()
            assert not any(s in log for s in secrets)
            # the header lived only in the pull's private directory, gone now
            tmp = node.sandbox.ephemeral_dir / "tmp"
            assert not [p for p in tmp.iterdir() if p.name.startswith("pull-hosts-")]
            shared = node.sandbox.ephemeral_dir / "etc" / "cri" / "conf.d" / "hosts"
            for f in shared.rglob("*"):
                assert f.is_dir() or b"Authorization" not in f.read_bytes(), f
        finally:
            registry.kill()
            registry.wait()
