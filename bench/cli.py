#!/usr/bin/env python3
"""talosctl start-up benchmark; prints one JSON object.

* `version_client_s`: wall time of `talosctl version --client` (no network: start-up,
  lazy command import, print).
* `version_node_s`: wall time of `talosctl -n <node> version` against a real node
  (machined in plain mode behind a real apid on 127.0.0.2), i.e. start-up to the first RPC
  answered, including the mTLS handshake.
* Floor: `python -c 'import grpc'` (`import_grpc_s`) - every talosctl command that talks to
  a node imports grpc; `python -c pass` (`python_s`) is shown too.

Each is the median of N runs (default 7, `--runs`), after one warm-up run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOST = "127.0.0.2"
CONFIG = """version: v1alpha1
machine:
  type: worker
  network:
    hostname: bench-cli
cluster:
  clusterName: bench
"""


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, env=env, check=False,
                       timeout=120)
    took = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{argv}: exit {r.returncode}: {r.stderr.strip()}")
    return took


def median(argv: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    timed(argv, env)
    return round(statistics.median(timed(argv, env) for _ in range(runs)), 4)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def main() -> None:
    import os

    import grpc

    from talos.machinery.client.talosconfig import Context, Talosconfig
    from talos.machinery.pki import CertificateAuthority, IssueOptions

    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=7)
    args = p.parse_args()
    talosctl = shutil.which("talosctl")
    if talosctl is None:
        raise SystemExit("talosctl is not installed (pip install -e .)")

    import ipaddress
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp_s:
        tmp = Path(tmp_s)
        try:
            ca = CertificateAuthority.generate(organization="talos")
            ca_pem = ca.to_pem().crt
            node = ca.issue_key_pair(IssueOptions(
                common_name=HOST, organizations=("os:impersonator",),
                ip_addresses=(ipaddress.ip_address(HOST),), server=True, client=True))
            client = ca.issue_key_pair(IssueOptions(common_name="bench",
                                                    organizations=("os:admin",)))
            for name, data in (("ca.pem", ca_pem), ("crt.pem", node.crt),
                               ("key.pem", node.key)):
                (tmp / name).write_bytes(data)
            (tmp / "config.yaml").write_text(CONFIG)
            root = tmp / "root"
            sock = root / "system/run/machined/machine.sock"
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "talos", "machined", "--root", str(root), "--config",
                 str(tmp / "config.yaml")], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
            while not sock.exists():
                if procs[0].poll() is not None:
                    raise SystemExit("machined exited")
                time.sleep(0.05)
            with grpc.insecure_channel(f"unix:{sock}") as ch:
                grpc.channel_ready_future(ch).result(timeout=60)
            port = free_port()
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "talos", "apid", "--listen", f"{HOST}:{port}",
                 "--backend", str(sock), "--remote-port", str(port), "--ca",
                 str(tmp / "ca.pem"), "--cert", str(tmp / "crt.pem"), "--key",
                 str(tmp / "key.pem")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            assert procs[1].stderr is not None
            if b"serving" not in procs[1].stderr.readline():
                raise SystemExit("apid did not start")
            tc = tmp / "talosconfig"
            Talosconfig(context="b", contexts={"b": Context.from_pems(
                endpoints=(f"{HOST}:{port}",), nodes=(HOST,), ca=ca_pem, client=client)}
            ).save(tc)
            env = {**os.environ, "TALOSCONFIG": str(tc)}
            result = {
                "runs": args.runs,
                "python_s": median([sys.executable, "-c", "pass"], args.runs),
                "import_grpc_s": median([sys.executable, "-c", "import grpc"], args.runs),
                "version_client_s": median([talosctl, "version", "--client"], args.runs,
                                           env),
                "version_node_s": median([talosctl, "-n", HOST, "version"], args.runs, env),
            }
        finally:
            for proc in reversed(procs):
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                if proc.stderr is not None:
                    proc.stderr.close()
    floor = result["import_grpc_s"]
    result["floor"] = "import_grpc_s"
    result["version_client_vs_floor"] = round(result["version_client_s"] / floor, 2)
    result["version_node_vs_floor"] = round(result["version_node_s"] / floor, 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
