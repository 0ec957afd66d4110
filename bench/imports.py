#!/usr/bin/env python3
"""What the node's Python processes pay for their imports; prints one JSON object.

* `components`: for machined, apid and trustd, each entry module imported in a fresh
  interpreter: module count, `-X importtime` self time summed by package (the costliest
  first), and RSS and anonymous memory (the heap the imports built) once imported.
  Floor: a fresh interpreter importing only grpc, grpc.aio and cryptography.x509 (what
  every one of them needs at least).
* `fork_server`: the figure behind "start apid and trustd from a process that already
  imported the shared modules" (machined forking them; not implemented, machined is not
  this benchmark's to change): a parent imports SHARED, freezes its objects out of the
  cyclic GC (`gc.freeze()`, so collections do not write to every shared page) and forks one
  child per component, which imports its entry module and then starts a grpc.aio server
  (threads, C-core state: what a running process touches). Beside it, the same children
  spawned fresh. Summed USS and PSS of the children, both ways, measured while all of
  them (and the parent) are alive, so shared pages are split as on a node.

Default deadline 300 s (`--deadline`, `$BENCH_DEADLINE`); every process is stopped on every
exit (see _harness.py).
"""

from __future__ import annotations

import collections
import subprocess
import sys

import psutil
from _harness import Bench, run

COMPONENTS = {
    "machined": "talos.machined.__main__",
    "apid": "talos.apid.__main__",
    "trustd": "talos.trustd.__main__",
}
FLOOR_MODULES = ("grpc", "grpc.aio", "cryptography.x509")
#: what a fork server would import before forking apid and trustd (both use all of these)
SHARED = (*FLOOR_MODULES, "google.protobuf.message", "talos.machinery.pki",
          "talos.nodeserver.process", "talos.nodeserver.tls", "talos.nodeserver.boundary")

# (no psutil here: its import would count too) RSS and anonymous memory (the heap: what
# the imports allocated; unlike USS it does not depend on which other processes happen to
# map the same libraries) in kB
_REPORT = """
import sys
kb = {}
for line in open("/proc/self/smaps_rollup"):
    key, _, rest = line.partition(":")
    if rest.strip().endswith("kB"):
        kb[key] = int(rest.split()[0])
print(len(sys.modules), kb["Rss"], kb["Anonymous"], flush=True)
"""

# A child: import the component, start a grpc.aio server on a unix socket, say "ready",
# wait for stdin to close.
_CHILD = """
import asyncio, importlib, sys
importlib.import_module({module!r})
import grpc

async def serve() -> None:
    server = grpc.aio.server()
    server.add_insecure_port({sock!r})
    await server.start()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await server.stop(None)

asyncio.run(serve())
"""

# The fork server: import SHARED, gc.freeze(), fork one child per component (each runs
# _CHILD with its stdout/stdin on pipes the server hands over), print the children's pids.
_SERVER = """
import gc, importlib, os, sys
for m in {shared!r}:
    importlib.import_module(m)
gc.collect()
gc.freeze()
pids = []
for module, sock in {children!r}:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(r, 0)
        os.close(w)
        exec({child!r}.format(module=module, sock=sock))
        os._exit(0)
    os.close(r)
    pids.append((pid, w))
print(" ".join(str(p) for p, _ in pids), flush=True)
sys.stdin.read()
for pid, w in pids:
    os.close(w)
for pid, _ in pids:
    os.waitpid(pid, 0)
"""


def import_figures(module: str) -> dict[str, object]:
    """Modules, importtime by package and memory of a fresh interpreter importing `module`."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-c",
                          f"import {module}\n{_REPORT}"],
                         capture_output=True, text=True, check=True)
    by_package: collections.Counter[str] = collections.Counter()
    for line in res.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        head, _cumulative, name = line.split("|")
        name = name.strip()
        parts = name.split(".")
        key = ".".join(parts[:3]) if parts[0] == "talos" else parts[0]
        by_package[key] += int(head.split(":")[1])
    count, rss, anon = (int(x) for x in res.stdout.split())
    return {
        "modules": count, "rss_mb": round(rss / 1024, 1), "anon_mb": round(anon / 1024, 1),
        "importtime_self_ms": round(sum(by_package.values()) / 1000, 1),
        "costliest_packages_ms": {k: round(v / 1000, 1) for k, v in by_package.most_common(8)},
    }


def _memory(pids: list[int]) -> dict[str, float]:
    uss = pss = 0
    for pid in pids:
        p = psutil.Process(pid)
        uss += p.memory_full_info().uss
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
    return {"uss_mb": round(uss / 2**20, 1), "pss_mb": round(pss / 2**20, 1)}


def forked_vs_spawned(bench: Bench, tmp: str) -> dict[str, object]:
    children = [(module, f"unix:{tmp}/{name}.sock")
                for name, module in COMPONENTS.items() if name != "machined"]
    # spawned: one fresh interpreter per component
    spawned: list[subprocess.Popen[str]] = []
    for module, sock in children:
        p = subprocess.Popen([sys.executable, "-c",
                              _CHILD.format(module=module, sock=sock + ".spawned")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        bench.track(p.pid)
        spawned.append(p)
    # forked: the server imports SHARED and forks them
    server = subprocess.Popen([sys.executable, "-c", _SERVER.format(
        shared=SHARED, children=children, child=_CHILD)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    bench.track(server.pid)
    try:
        bench.waiting_for("the spawned children to serve")
        for p in spawned:
            assert p.stdout is not None
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("a spawned child did not start")
        bench.waiting_for("the fork server to fork its children")
        assert server.stdout is not None
        forked = [int(x) for x in server.stdout.readline().split()]
        if len(forked) != len(children):
            raise RuntimeError("the fork server did not fork every child")
        for _ in range(len(forked)):
            bench.waiting_for("the forked children to serve")
            if server.stdout.readline().strip() != "ready":
                raise RuntimeError("a forked child did not start")
        spawned_mem = _memory([p.pid for p in spawned])
        forked_mem = _memory(forked)
        server_mem = _memory([server.pid])
    finally:
        for p in [*spawned, server]:
            if p.stdin is not None:
                p.stdin.close()
        for p in [*spawned, server]:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stdout is not None:
                p.stdout.close()
    return {
        "children": [m for m, _ in children],
        "shared_imports": list(SHARED),
        "spawned": spawned_mem,
        "forked": forked_mem,
        "fork_server_itself": server_mem,
        "uss_saved_mb": round(spawned_mem["uss_mb"] - forked_mem["uss_mb"], 1),
        "note": "machined would be the fork server: its own memory is paid anyway",
    }


def main(bench: Bench) -> dict[str, object]:
    out: dict[str, object] = {}
    bench.waiting_for("the floor's imports (grpc, grpc.aio, cryptography.x509)")
    floor = import_figures(", ".join(FLOOR_MODULES))
    components: dict[str, object] = {}
    for name, module in COMPONENTS.items():
        bench.waiting_for(f"the imports of {name} ({module})")
        figures = import_figures(module)
        figures["anon_over_floor_mb"] = round(
            float(figures["anon_mb"]) - float(floor["anon_mb"]), 1)  # type: ignore[arg-type]
        components[name] = figures
    out["floor"] = floor
    out["components"] = components
    out["fork_server"] = forked_vs_spawned(bench, str(bench.tempdir("talos-bench-imports-")))
    return out


if __name__ == "__main__":
    run(main, deadline=300)
