#!/usr/bin/env python3
"""talosctl start-up benchmark; prints one JSON object.

* `version_client_s`: wall time of `talosctl version --client` (no network: start-up,
  lazy command import, print).
* `version_node_s`: wall time of `talosctl -n <node> version` against a real node
  (machined in plain mode behind a real apid on 127.0.0.2), i.e. start-up to the first RPC
  answered, including the mTLS handshake.
* Floor: `python -c 'import grpc'` (`import_grpc_s`) - every talosctl command that talks to
  a node imports grpc; `python -c pass` (`python_s`) is shown too.

Each is the median of N runs (default 7, `--runs`), after one warm-up run. Default deadline
300 s (`--deadline`, `$BENCH_DEADLINE`); everything started is removed on every exit, SIGTERM
and SIGINT included (see _harness.py).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

from _harness import Bench, run

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


def main(bench: Bench) -> dict[str, object]:
    import ipaddress
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

    tmp = bench.tempdir("bench-cli-")
    ca = CertificateAuthority.generate(organization="talos")
    ca_pem = ca.to_pem().crt
    node = ca.issue_key_pair(IssueOptions(
        common_name=HOST, organizations=("os:impersonator",),
        ip_addresses=(ipaddress.ip_address(HOST),), server=True, client=True))
    client = ca.issue_key_pair(IssueOptions(common_name="bench",
                                            organizations=("os:admin",)))
    for name, data in (("ca.pem", ca_pem), ("crt.pem", node.crt), ("key.pem", node.key)):
        (tmp / name).write_bytes(data)
    (tmp / "config.yaml").write_text(CONFIG)
    root = tmp / "root"
    sock = root / "system/run/machined/machine.sock"
    bench.waiting_for("machined (plain mode) to start")
    machined = subprocess.Popen(
        [sys.executable, "-m", "talos", "machined", "--root", str(root), "--config",
         str(tmp / "config.yaml")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bench.track(machined.pid)
    while not sock.exists():
        if machined.poll() is not None:
            raise SystemExit(f"machined exited with {machined.returncode}")
        time.sleep(0.05)
    bench.waiting_for("machined's socket to answer")
    with grpc.insecure_channel(f"unix:{sock}") as ch:
        grpc.channel_ready_future(ch).result(timeout=bench.remaining())
    port = free_port()
    bench.waiting_for("apid to start serving")
    apid = subprocess.Popen(
        [sys.executable, "-m", "talos", "apid", "--listen", f"{HOST}:{port}",
         "--backend", str(sock), "--remote-port", str(port), "--ca",
         str(tmp / "ca.pem"), "--cert", str(tmp / "crt.pem"), "--key",
         str(tmp / "key.pem")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    bench.track(apid.pid)
    assert apid.stderr is not None
    bench.cleanup("close apid's stderr", apid.stderr.close)
    if b"serving" not in apid.stderr.readline():
        raise SystemExit("apid did not start")
    tc = tmp / "talosconfig"
    Talosconfig(context="b", contexts={"b": Context.from_pems(
        endpoints=(f"{HOST}:{port}",), nodes=(HOST,), ca=ca_pem, client=client)}
    ).save(tc)
    env = {**os.environ, "TALOSCONFIG": str(tc)}
    figures: dict[str, float] = {}
    for key, argv, e in (("python_s", [sys.executable, "-c", "pass"], None),
                         ("import_grpc_s", [sys.executable, "-c", "import grpc"], None),
                         ("version_client_s", [talosctl, "version", "--client"], env),
                         ("version_node_s", [talosctl, "-n", HOST, "version"], env)):
        bench.waiting_for(f"{args.runs} runs of {' '.join(argv[1:])}")
        figures[key] = median(argv, args.runs, e)
    floor = figures["import_grpc_s"]
    result: dict[str, object] = {"runs": args.runs, **figures, "floor": "import_grpc_s"}
    result["version_client_vs_floor"] = round(figures["version_client_s"] / floor, 2)
    result["version_node_vs_floor"] = round(figures["version_node_s"] / floor, 2)
    return result


if __name__ == "__main__":
    run(main, deadline=300)
