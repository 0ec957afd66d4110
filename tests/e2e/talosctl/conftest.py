"""Three real nodes for talosctl end-to-end tests.

Each node is a machined in plain mode (`--root`, its own state directory) behind a real apid
process on a loopback alias (127.0.0.2/.3/.4, one shared port so apids route `-n` to each
other). A talosconfig with an os:admin client certificate points at the first node.
`talosctl` runs as the installed executable in a subprocess, as a user would run it.

The cluster is shared by the whole session (starting machined costs seconds); tests that
stop or reboot a node use `restart_node()` to bring it back.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from talos.machinery.client.talosconfig import Context, Talosconfig
from tests.integration.apid.harness import Pki, free_port, new_pki
from tests.leftovers import nothing_left

HOSTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
CONFIG = """version: v1alpha1
machine:
  type: {type}
{extras}  network:
    hostname: {hostname}
cluster:
  clusterName: e2e
  controlPlane:
    endpoint: https://127.0.0.1:6443
"""
TALOSCTL = shutil.which("talosctl")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM `proc` if it runs, SIGKILL it after 30 s; returns once it is reaped."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_socket(path: Path, proc: subprocess.Popen[bytes], what: str) -> None:
    """Until the unix socket answers gRPC (or the process died)."""
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if path.exists():
            with grpc.insecure_channel(f"unix:{path}") as ch:
                try:
                    grpc.channel_ready_future(ch).result(timeout=1)
                    return
                except grpc.FutureTimeoutError:
                    pass
        time.sleep(0.05)


@dataclass
class E2ENode:
    host: str
    hostname: str
    root: Path
    config: Path
    log: Path
    machined: subprocess.Popen[bytes] | None = None
    apid: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.root / "system/run/machined/machine.sock"


@dataclass
class E2ECluster:
    tmp: Path
    pki: Pki
    port: int
    talosconfig: Path
    home: Path
    nodes: dict[str, E2ENode] = field(default_factory=dict)

    def endpoint(self, host: str = HOSTS[0]) -> str:
        return f"{host}:{self.port}"

    def machine_extras(self, controlplane: bool = False) -> str:
        """The `machine:` lines every valid config has: the OS CA (its key on a control
        plane only) and the HostDNS features container mode requires."""
        pem = self.pki.ca.to_pem()
        key = f"    key: {base64.b64encode(pem.key).decode()}\n" if controlplane else ""
        return (f"  ca:\n    crt: {base64.b64encode(pem.crt).decode()}\n{key}"
                "  features:\n    hostDNS:\n      enabled: true\n"
                "      forwardKubeDNSToHost: true\n")

    def start_machined(self, node: E2ENode) -> None:
        with open(node.log, "ab") as log:
            node.machined = subprocess.Popen(
                [sys.executable, "-m", "talos", "machined", "--root", str(node.root),
                 "--config", str(node.config)], stdout=log, stderr=log)
        _wait_socket(node.socket, node.machined, f"machined {node.host}")

    def start_apid(self, node: E2ENode) -> None:
        cert = self.pki.node_cert(node.host)
        d = self.tmp / f"apid-{node.host}"
        d.mkdir(exist_ok=True)
        for name, data in (("ca.pem", self.pki.ca_pem), ("crt.pem", cert.crt),
                           ("key.pem", cert.key)):
            (d / name).write_bytes(data)
        log = open(d / "stderr", "wb+")
        node.apid = subprocess.Popen(
            [sys.executable, "-m", "talos", "apid", "--listen", f"{node.host}:{self.port}",
             "--backend", str(node.socket), "--remote-port", str(self.port),
             "--ca", str(d / "ca.pem"), "--cert", str(d / "crt.pem"),
             "--key", str(d / "key.pem")], stdout=subprocess.DEVNULL, stderr=log)
        try:
            while b"apid: serving on" not in (d / "stderr").read_bytes():
                if node.apid.poll() is not None:
                    raise RuntimeError(f"apid {node.host} exited: "
                                       f"{(d / 'stderr').read_text()}")
                time.sleep(0.05)
        finally:
            log.close()

    def restart_node(self, host: str) -> None:
        """machined back up on `host` if a test shut it down (apid keeps running)."""
        node = self.nodes[host]
        if node.machined is not None and node.machined.poll() is None:
            return
        self.start_machined(node)

    def fresh_node(self, host: str) -> None:
        """machined on `host` restarted from an empty root (after a reset wiped its state)."""
        node = self.nodes[host]
        if node.machined is not None:
            stop_process(node.machined)
        shutil.rmtree(node.root, ignore_errors=True)
        self.start_machined(node)

    def wait_serving(self, host: str) -> None:
        node = self.nodes[host]
        assert node.machined is not None
        _wait_socket(node.socket, node.machined, f"machined {host}")

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("TALOSCONFIG", "EDITOR",
                                                                "VISUAL")}
        env.update(HOME=str(self.home), TALOSCONFIG=str(self.talosconfig), COLUMNS="200")
        env.update(extra)
        return env

    def run(self, *args: str, input: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 120, endpoint: bool = True) -> subprocess.CompletedProcess[str]:
        """`talosctl -e <first node>:<port> ARGS` (no traceback allowed on stderr).

        Without `input`, stdin is /dev/null (as in a script or CI job), never the terminal
        pytest runs in."""
        assert TALOSCTL is not None, "talosctl is not installed (pip install -e .)"
        argv = [TALOSCTL, *(("-e", self.endpoint()) if endpoint else ()), *args]
        r = subprocess.run(argv, capture_output=True, text=True, input=input,
                           stdin=subprocess.DEVNULL if input is None else None,
                           env=env or self.env(), timeout=timeout, check=False,
                           cwd=self.tmp)
        assert "Traceback" not in r.stderr, r.stderr
        return r

    def close(self) -> None:
        for node in self.nodes.values():
            for proc in (node.apid, node.machined):
                if proc is not None:
                    stop_process(proc)


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ECluster]:
    tmp = tmp_path_factory.mktemp("e2e")
    pki = new_pki()
    home = tmp / "home"
    home.mkdir()
    client = pki.client("os:admin")
    talosconfig = tmp / "talosconfig"
    Talosconfig(context="e2e", contexts={"e2e": Context.from_pems(
        endpoints=(HOSTS[0],), nodes=(HOSTS[0],), ca=pki.ca_pem, client=client)}
    ).save(talosconfig)
    c = E2ECluster(tmp, pki, free_port(list(HOSTS)), talosconfig, home)
    # every process, mount and namespace of the session's tests is gone once it is closed
    with nothing_left(tmp, what="the e2e talosctl cluster"):
        try:
            for i, host in enumerate(HOSTS):
                d = tmp / f"n{i}"
                d.mkdir()
                cfg = d / "config.yaml"
                hostname = f"e2e-{i + 1}"
                cfg.write_text(CONFIG.format(type="controlplane" if i == 0 else "worker",
                                             hostname=hostname,
                                             extras=c.machine_extras(controlplane=i == 0)))
                node = E2ENode(host, hostname, d / "root", cfg, d / "machined.log")
                c.nodes[host] = node
                c.start_machined(node)
                c.start_apid(node)
            yield c
        finally:
            c.close()
