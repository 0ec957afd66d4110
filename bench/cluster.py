#!/usr/bin/env python3
"""Local cluster benchmark; prints one JSON object.

* `create_to_healthy_s` for 1+1 and 3+2: wall time of `talosctl cluster create` (a
  subprocess, as a user runs it) until it returns with every health check passed.
  Floor: the same number of bare `etcd-server` processes (one per node, a static cluster on
  loopback addresses) started by this script and made healthy (every member answers its
  `/health` endpoint, which etcd answers after a linearizable read as `etcdctl endpoint
  health` does; polled every 20 ms without starting a process per poll), in the same run.
* `memory_per_node`: RSS, PSS (from /proc/PID/smaps_rollup: shared pages split between the
  processes mapping them) and USS (pages only that process maps) of every process of each
  node (machined, apid, trustd, etcd, containerd), the node's total and its Python total;
  `memory`: the first control plane's Python and node totals beside the floor, three bare
  Python processes that import grpc and cryptography (what machined, apid and trustd each
  need at least) running together, and the ratio of the Python PSS to it; the node's floor
  (those three plus the node's own etcd and containerd) and the node's ratio to it, for
  RSS, PSS and USS. Aims: Python PSS < 120 MB, a control plane node < 180 MB RSS.
* `destroy_s`: wall time of `talosctl cluster destroy`.

Aim: 1+1 healthy in under 10 s and within 2x the floor. Default deadline 1200 s
(`--deadline`, `$BENCH_DEADLINE`); everything started (clusters: their nodes, bridge, veths,
mounts; bare etcds; temp dirs) is removed on every exit, SIGTERM and SIGINT included (see
_harness.py). `BENCH_CLUSTER_SIZES=1+1` measures one size only (default "1+1,3+2").
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
from _cidr import free_cidr
from _harness import Bench, run

from talos.provision.destroy import destroy_cluster
from talos.provision.state import ClusterRecord


def talosctl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "talos", "talosctl", *args], env=env,
                          capture_output=True, text=True, check=False, timeout=600)


def smaps_rollup_kb(pid: int) -> dict[str, int]:
    """Rss, Pss, Private_Clean/Dirty, ... of a process in kB (one read of the kernel's sum)."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                out[key] = int(parts[0])
    return out


def process_memory(p: psutil.Process) -> dict[str, float]:
    """RSS (psutil), PSS (/proc/PID/smaps_rollup: shared pages split between their users)
    and USS (psutil memory_full_info: pages only this process maps), in MB."""
    full = p.memory_full_info()
    rollup = smaps_rollup_kb(p.pid)
    return {"rss_mb": round(full.rss / 2**20, 1),
            "pss_mb": round(rollup.get("Pss", 0) / 1024, 1),
            "uss_mb": round(full.uss / 2**20, 1)}


def _is_python(p: psutil.Process) -> bool:
    # a process forked by machined's fork server is named after its service (apid)
    return os.path.basename(p.exe()).startswith("python")


def _label(p: psutil.Process) -> str:
    if p.name().startswith("python"):
        args = p.cmdline()[1:]
        # `python -m talos machined ...` -> "machined"
        if len(args) >= 3 and args[0] == "-m" and args[1] == "talos":
            return args[2]
        if len(args) >= 2 and args[0] == "-m" and args[1].endswith(".forkserver"):
            return "forkserver"
        return " ".join(args[:3])
    return p.name()


def _add(total: dict[str, float], mem: dict[str, float]) -> None:
    for k, v in mem.items():
        total[k] = round(total.get(k, 0.0) + v, 1)


def node_memory(record: ClusterRecord) -> dict[str, dict[str, object]]:
    """Per node: every process (RSS, PSS, USS), the node's total and its Python total."""
    out: dict[str, dict[str, object]] = {}
    for n in record.nodes:
        try:
            root = psutil.Process(n.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        rows: list[dict[str, object]] = []
        total: dict[str, float] = {}
        python: dict[str, float] = {}
        for p in procs:
            try:
                name = _label(p)
                mem = process_memory(p)
                is_python = _is_python(p)
            except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
                continue
            rows.append({"process": name, "pid": p.pid, **mem})
            _add(total, mem)
            if is_python:
                _add(python, mem)
        out[n.name] = {"processes": rows, "total": total, "python": python}
    return out


#: the least a Python process of a node holds: the interpreter with grpc (aio) and
#: cryptography imported, what machined, apid and trustd each need at least
FLOOR_PROGRAM = ("import sys, grpc, grpc.aio, cryptography.x509; "
                 "print('ready', flush=True); sys.stdin.read()")


def python_floor(bench: Bench, count: int = 3) -> dict[str, float]:
    """`count` bare Python processes importing grpc and cryptography, running together (so
    their shared pages are split as a node's are): summed RSS, PSS and USS."""
    procs = []
    try:
        for _ in range(count):
            p = subprocess.Popen([sys.executable, "-c", FLOOR_PROGRAM], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE)
            bench.track(p.pid)
            procs.append(p)
        total: dict[str, float] = {}
        for p in procs:
            bench.waiting_for("a bare Python floor process to import grpc")
            assert p.stdout is not None
            if not p.stdout.readline():
                raise RuntimeError("a bare Python floor process exited")
        for p in procs:
            _add(total, process_memory(psutil.Process(p.pid)))
        return total
    finally:
        for p in procs:
            if p.stdin is not None:
                p.stdin.close()
            p.kill()
            p.wait()
            if p.stdout is not None:
                p.stdout.close()


def memory_figures(memory: dict[str, dict[str, object]], floor: dict[str, float]
                   ) -> dict[str, object]:
    """The first control plane against the aims (Python PSS < 120 MB, node RSS < 180 MB)
    and the floor (3 bare Python processes with grpc and cryptography)."""
    first = next(iter(memory.values()), None)
    if first is None:
        return {}
    python = first["python"]
    total = first["total"]
    assert isinstance(python, dict) and isinstance(total, dict)
    # What bounds the node's summed RSS: the same three bare Pythons plus the node's own
    # etcd and containerd (not ours to shrink). RSS counts every shared page once per
    # process that maps it, so this floor is the least any node running machined, apid
    # and trustd as separate Python processes (as upstream runs them as separate
    # processes) can sum to; PSS counts each page once in all.
    others = {k: total[k] - python[k] for k in total}
    node_floor = {k: round(floor[k] + others[k], 1) for k in floor}
    return {
        "first_controlplane_python": python,
        "first_controlplane_total": total,
        "floor_three_bare_pythons": floor,
        "python_pss_ratio_to_floor": round(python["pss_mb"] / floor["pss_mb"], 2),
        "floor_node_three_bare_pythons_etcd_containerd": node_floor,
        "node_ratio_to_floor": {k.replace("_mb", ""): round(total[k] / node_floor[k], 2)
                                for k in node_floor},
        "aim": "python PSS < 120 MB, node RSS < 180 MB",
    }


def bench_cluster(bench: Bench, cps: int, workers: int, tmp: Path) -> dict[str, object]:
    name = f"bench-{cps}-{workers}"
    state = tmp / "clusters"
    env = {**os.environ, "TALOSCONFIG": str(tmp / f"talosconfig-{name}")}
    cidr = free_cidr()
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
        memory = node_memory(record)
        bench.waiting_for("bare Python processes (memory floor)")
        floor = python_floor(bench)
        bench.waiting_for(f"`talosctl cluster destroy` of {name} to return")
        start = time.monotonic()
        gone = talosctl("cluster", "destroy", "--name", name, "--state", str(state), env=env)
        destroy_s = time.monotonic() - start
        if gone.returncode != 0:
            return {"error": gone.stderr[-2000:]}
        return {"create_to_healthy_s": round(healthy, 2), "destroy_s": round(destroy_s, 2),
                "memory": memory_figures(memory, floor), "memory_per_node": memory}
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
    data = Path(tempfile.mkdtemp(prefix=f"etcd-{members}-", dir=tmp))  # fresh every run
    start = time.monotonic()
    try:
        for i, h in enumerate(hosts):
            procs.append(subprocess.Popen(
                [etcd, "--name", f"m{i}", "--data-dir", str(data / f"m{i}"),
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


def _post(url: str, body: dict[str, object]) -> dict[str, object] | None:
    """A JSON call to etcd's gRPC gateway; None when etcd refuses it."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=2) as r:
            out = json.loads(r.read())
    except (OSError, urllib.error.URLError, ValueError):
        return None
    return out if isinstance(out, dict) and "error" not in out else None


def bare_etcd_joins(bench: Bench, members: int, tmp: Path) -> float:
    """The join floor: bare etcd-server processes made one cluster the way nodes make it:
    one bootstraps, each other is added as a learner (MemberAdd retried every 20 ms: etcd's
    strict reconfiguration check refuses it until every voting member has been connected for
    5 s), started, promoted as soon as etcd allows (retried every 20 ms); until every member
    answers /health. No TLS, no Python per node: what the join protocol costs by itself."""
    etcd = shutil.which("etcd") or "/usr/bin/etcd"
    net = f"127.{random.randint(2, 250)}.{random.randint(2, 250)}"
    hosts = [f"{net}.{i + 10}" for i in range(members)]
    procs: list[subprocess.Popen[bytes]] = []
    data = Path(tempfile.mkdtemp(prefix=f"etcd-join-{members}-", dir=tmp))
    first = f"http://{hosts[0]}:12379"

    def start(i: int, initial: str, state: str) -> None:
        h = hosts[i]
        procs.append(subprocess.Popen(
            [etcd, "--name", f"m{i}", "--data-dir", str(data / f"m{i}"),
             "--listen-peer-urls", f"http://{h}:12380",
             "--initial-advertise-peer-urls", f"http://{h}:12380",
             "--listen-client-urls", f"http://{h}:12379",
             "--advertise-client-urls", f"http://{h}:12379",
             "--initial-cluster", initial, "--initial-cluster-state", state],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        bench.track(procs[-1].pid)

    def until(what: str, fn: Callable[..., object], *args: object) -> object:
        bench.waiting_for(what)
        while not (out := fn(*args)):
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a bare etcd member exited (its ports in use?)")
            time.sleep(0.02)
        return out

    start_t = time.monotonic()
    try:
        start(0, f"m0=http://{hosts[0]}:12380", "new")
        until("the first bare etcd (join floor) to answer /health", healthy, f"{first}/health")
        for i in range(1, members):
            peer = f"http://{hosts[i]}:12380"
            added = until(f"bare etcd m{i} to be added as a learner (join floor)",
                          _post, f"{first}/v3/cluster/member/add",
                          {"peerURLs": [peer], "isLearner": True})
            assert isinstance(added, dict)
            member = added["member"]
            listed = added["members"]
            assert isinstance(member, dict) and isinstance(listed, list)
            initial = ",".join(f"{m.get('name') or f'm{i}'}={u}"
                               for m in listed for u in m["peerURLs"])
            start(i, initial, "existing")
            until(f"bare etcd m{i} to be promoted (join floor)",
                  _post, f"{first}/v3/cluster/member/promote", {"ID": member["ID"]})
        for h in hosts:
            until(f"bare etcd on {h} (join floor) to answer /health",
                  healthy, f"http://{h}:12379/health")
        return time.monotonic() - start_t
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
    bench.waiting_for("the talos package to be byte-compiled")
    result: dict[str, object] = {"bytecode_precompiled": precompile()}
    tmp = bench.tempdir("bench-cluster-")
    sizes = os.environ.get("BENCH_CLUSTER_SIZES", "1+1,3+2")  # e.g. "1+1" for a quick run
    for size in sizes.split(","):
        cps, workers = (int(x) for x in size.split("+"))
        key = f"{cps}+{workers}"
        measured = bench_cluster(bench, cps, workers, tmp)
        # median of 3: one start in a few elects a leader far sooner than the rest (a 5-member
        # floor of 0.27 s once, 4.2-4.3 s otherwise), which made the ratio meaningless
        floor = statistics.median(bare_etcd(bench, cps + workers, tmp) for _ in range(3))
        # the join floor: a single run is steady (its 5 s strict-reconfig waits dominate)
        joins = bare_etcd_joins(bench, cps, tmp) if cps > 1 else None
        if "create_to_healthy_s" in measured:
            value = float(measured["create_to_healthy_s"])  # type: ignore[arg-type]
            measured["floor_bare_etcd_s"] = round(floor, 2)
            measured["ratio_to_floor"] = round(value / floor, 2)
            if joins is not None:
                measured["floor_bare_etcd_joins_s"] = round(joins, 2)
                measured["ratio_to_join_floor"] = round(value / joins, 2)
        result[key] = measured
    result["aim"] = "1+1 healthy < 10 s and within 2x the floor"
    return result


if __name__ == "__main__":
    run(main, deadline=1200, needs_root="namespaces, bridges")
