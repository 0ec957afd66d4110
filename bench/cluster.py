#!/usr/bin/env python3
"""Local cluster benchmark; prints one JSON object.

* `create_to_healthy_s` for 1+1 and 3+2: wall time of `talosctl cluster create` (a
  subprocess, as a user runs it) until it returns with every health check passed.
  Floor: the same number of bare `etcd-server` processes (one per node, a static cluster on
  loopback addresses) started by this script and made healthy (every member answers its
  `/health` endpoint, which etcd answers after a linearizable read as `etcdctl endpoint
  health` does; polled every 20 ms without starting a process per poll), in the same run.
* `rss_mb_per_node`: resident memory of every process of each node (machined, apid,
  trustd, etcd, containerd), summed per node, and the per-process breakdown of the first
  control plane.
* `destroy_s`: wall time of `talosctl cluster destroy`.

Aim: 1+1 healthy in under 10 s and within 2x the floor. Default deadline 1200 s
(`--deadline`, `$BENCH_DEADLINE`); everything started (clusters: their nodes, bridge, veths,
mounts; bare etcds; temp dirs) is removed on every exit, SIGTERM and SIGINT included (see
_harness.py).
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
from _harness import Bench, run

from talos.provision import network
from talos.provision.destroy import destroy_cluster
from talos.provision.state import ClusterRecord


def free_cidr(skip: set[str]) -> str:
    occupants = network.host_ipv4_networks()
    # 10.214.x: apart from the e2e tests' 10.213.x, so a bench never races a test run
    for x in range(200, 250):
        cidr = f"10.214.{x}.0/24"
        if cidr not in skip and not network.conflicts(ipaddress.IPv4Network(cidr), occupants):
            skip.add(cidr)
            return cidr
    raise RuntimeError("no free 10.214.x.0/24")


def talosctl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "talos", "talosctl", *args], env=env,
                          capture_output=True, text=True, check=False, timeout=600)


def node_rss(record: ClusterRecord) -> tuple[dict[str, float], dict[str, float]]:
    per_node: dict[str, float] = {}
    first: dict[str, float] = {}
    for i, n in enumerate(record.nodes):
        try:
            root = psutil.Process(n.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        total = 0.0
        for p in procs:
            try:
                mb = p.memory_info().rss / 2**20
                name = " ".join(p.cmdline()[1:4]) if p.name().startswith("python") \
                    else p.name()
            except psutil.NoSuchProcess:
                continue
            total += mb
            if i == 0:
                first[name] = round(first.get(name, 0.0) + mb, 1)
        per_node[n.name] = round(total, 1)
    return per_node, first


def bench_cluster(bench: Bench, cps: int, workers: int, tmp: Path, used: set[str]
                  ) -> dict[str, object]:
    name = f"bench-{cps}-{workers}"
    state = tmp / "clusters"
    env = {**os.environ, "TALOSCONFIG": str(tmp / f"talosconfig-{name}")}
    cidr = free_cidr(used)
    bench.cleanup(f"destroy cluster {name}", lambda: destroy_cluster(state, name, timeout=10))
    bench.waiting_for(f"`talosctl cluster create` of {name} ({cidr}) to return")
    start = time.monotonic()
    res = talosctl("cluster", "create", "--name", name, "--cidr", cidr, "--state", str(state),
                   "--controlplanes", str(cps), "--workers", str(workers),
                   "--skip-kubeconfig", "--wait-timeout", "5m", env=env)
    healthy = time.monotonic() - start
    try:
        if res.returncode != 0:
            return {"error": res.stderr[-2000:]}
        record = ClusterRecord.load(state / name)
        per_node, first = node_rss(record)
        bench.waiting_for(f"`talosctl cluster destroy` of {name} to return")
        start = time.monotonic()
        gone = talosctl("cluster", "destroy", "--name", name, "--state", str(state), env=env)
        destroy_s = time.monotonic() - start
        if gone.returncode != 0:
            return {"error": gone.stderr[-2000:]}
        return {"create_to_healthy_s": round(healthy, 2), "destroy_s": round(destroy_s, 2),
                "rss_mb_per_node": per_node, "rss_mb_first_controlplane": first}
    finally:
        destroy_cluster(state, name, timeout=10)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return bool(json.loads(r.read()).get("health") == "true")
    except (OSError, urllib.error.URLError, ValueError):
        return False


def bare_etcd(bench: Bench, members: int, tmp: Path) -> float:
    """N etcd-server processes (static cluster on 127.x.y.z) until all answer health."""
    etcd = shutil.which("etcd") or "/usr/bin/etcd"
    # loopback addresses of this run only: another bench's members on the same ports would
    # answer the health check (a floor of a few hundred ms) while ours fail to bind
    net = f"127.{random.randint(2, 250)}.{random.randint(2, 250)}"
    hosts = [f"{net}.{i + 10}" for i in range(members)]
    initial = ",".join(f"m{i}=http://{h}:12380" for i, h in enumerate(hosts))
    procs: list[subprocess.Popen[bytes]] = []
    start = time.monotonic()
    try:
        for i, h in enumerate(hosts):
            procs.append(subprocess.Popen(
                [etcd, "--name", f"m{i}", "--data-dir", str(tmp / f"etcd-{members}-{i}"),
                 "--listen-peer-urls", f"http://{h}:12380",
                 "--initial-advertise-peer-urls", f"http://{h}:12380",
                 "--listen-client-urls", f"http://{h}:12379",
                 "--advertise-client-urls", f"http://{h}:12379",
                 "--initial-cluster", initial, "--initial-cluster-state", "new"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            bench.track(procs[-1].pid)
        for h in hosts:
            bench.waiting_for(f"bare etcd on {h} (floor) to answer /health")
            while not healthy(f"http://{h}:12379/health"):
                if any(p.poll() is not None for p in procs):
                    raise RuntimeError("a bare etcd member exited (its ports in use?)")
                time.sleep(0.02)
        took = time.monotonic() - start
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a bare etcd member exited (its ports in use?)")
        return took
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def precompile() -> bool:
    """Bytecode next to the sources, as an installed package has it (pip writes it at install
    time), even when this shell disables writing it (PYTHONDONTWRITEBYTECODE): the nodes see
    the host read-only and would otherwise compile every talos module in every process."""
    import compileall

    import talos
    return bool(compileall.compile_dir(os.path.dirname(os.path.abspath(talos.__file__)),
                                       quiet=2))


def main(bench: Bench) -> dict[str, object]:
    used: set[str] = set()
    bench.waiting_for("the talos package to be byte-compiled")
    result: dict[str, object] = {"bytecode_precompiled": precompile()}
    tmp = bench.tempdir("bench-cluster-")
    for cps, workers in ((1, 1), (3, 2)):
        key = f"{cps}+{workers}"
        measured = bench_cluster(bench, cps, workers, tmp, used)
        floor = bare_etcd(bench, cps + workers, tmp)
        if "create_to_healthy_s" in measured:
            value = float(measured["create_to_healthy_s"])  # type: ignore[arg-type]
            measured["floor_bare_etcd_s"] = round(floor, 2)
            measured["ratio_to_floor"] = round(value / floor, 2)
        result[key] = measured
    result["aim"] = "1+1 healthy < 10 s and within 2x the floor"
    return result


if __name__ == "__main__":
    run(main, deadline=1200, needs_root="namespaces, bridges")
