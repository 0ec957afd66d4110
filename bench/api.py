#!/usr/bin/env python3
"""API benchmark: apid in front of machined; prints one JSON object.

* `version`: Version p50/p99 (sequential, interleaved call by call with the floor and the
  breakdown paths so all see the same load) and calls/s (8 in flight) through apid
  (mTLS -> apid -> unix socket -> a real machined in plain mode), beside the floor: a bare
  mTLS grpc.aio echo server (async handler, separate process, replies as large as apid's
  Version reply) called the same way in the same run.
  `ratio` = measured/floor for latency (aim <= 2) and floor/measured for calls/s.
* `fanout`: Version p50 with `nodes` = 1 node vs 5 nodes (5 apids on 127.0.0.2-6, each in
  front of its own small backend process serving the MachineService envelope), aim <= 1.5.
* `fanout_cluster`: the same fan-out against real nodes: a 5-node sandbox cluster (1 control
  plane + 4 workers, made by `talosctl cluster create` in a reserved 10.214.x.0/24, see
  _cidr.py) called through the control plane's apid with the project's own client
  (talosconfig -> Connection): Version p50 with `nodes` = one worker vs all 5 nodes, aim
  <= 1.5, and the CPU every process of the cluster (and this client) spends per call.
  Needs root (namespaces, bridges); the cluster is destroyed on every exit.
  `BENCH_API_CLUSTER=0` leaves it out.
* `logs_stream`: MB/s of a Logs stream (64 KiB chunks) through apid vs directly from the
  backend's unix socket.
Every process is separate (apids, backends, echo); all are stopped at the end. Default
deadline 600 s (`--deadline`, `$BENCH_DEADLINE`); everything started is removed on every
exit, SIGTERM and SIGINT included (see _harness.py).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import psutil
from _cidr import cluster_name, free_cidr
from _harness import Bench, run_async
from google.protobuf import empty_pb2

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2, machine_pb2_grpc
from talos.machinery.client.connection import Connection, ConnectionOptions
from talos.machinery.client.talosconfig import Talosconfig
from talos.machinery.pki import CertificateAuthority, IssueOptions
from talos.provision.destroy import destroy_cluster
from talos.provision.state import ClusterRecord

SEQ_CALLS = 1000
PAR_CALLS = 2000
INFLIGHT = 8
FANOUT_CALLS = 300
CHUNK = 64 << 10
STREAM_CHUNKS = 1024  # 64 MiB
HOSTS = [f"127.0.0.{i}" for i in range(2, 7)]
ECHO_HOST = "127.0.0.9"
MACHINED_CONFIG = b"""version: v1alpha1
machine:
  type: controlplane
  network:
    hostname: bench-node
cluster:
  clusterName: bench
"""

# -- child processes (this script re-invoked) ---------------------------------------------


async def _backend(sock: str, name: str) -> None:
    class Handler(grpc.GenericRpcHandler):
        def service(self, details):  # type: ignore[no-untyped-def]
            if details.method == "/machine.MachineService/Version":
                reply = machine_pb2.VersionResponse(messages=[machine_pb2.Version(
                    version=machine_pb2.VersionInfo(tag="bench", sha=name))]
                ).SerializeToString()

                async def version(req: bytes, ctx: object) -> bytes:
                    return reply
                return grpc.unary_unary_rpc_method_handler(version)
            if details.method == "/machine.MachineService/Logs":
                chunk = common_pb2.Data(bytes=b"x" * CHUNK).SerializeToString()

                async def logs(req: bytes, ctx: object):  # type: ignore[no-untyped-def]
                    n = machine_pb2.LogsRequest.FromString(req).tail_lines
                    for _ in range(n):
                        yield chunk
                return grpc.unary_stream_rpc_method_handler(logs)
            return None
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([Handler()])
    server.add_insecure_port(f"unix:{sock}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


async def _echo(listen: str, ca: bytes, crt: bytes, key: bytes, size: int) -> None:
    reply = b"x" * size

    async def echo(req: bytes, ctx: object) -> bytes:
        return reply
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)})])
    creds = grpc.ssl_server_credentials([(key, crt)], root_certificates=ca,
                                        require_client_auth=True)
    server.add_secure_port(listen, creds)
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


# -- measurement --------------------------------------------------------------------------


async def calls_per_s(call: Callable[[], Awaitable[object]]) -> float:
    remaining = PAR_CALLS

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(INFLIGHT)))
    return PAR_CALLS / (time.perf_counter() - t0)


async def interleaved(calls: dict[str, Callable[[], Awaitable[object]]], n: int
                      ) -> dict[str, list[float]]:
    """Latencies of several calls measured in turn, call by call, so that each sees the same
    machine (other processes come and go on a shared 2-core box)."""
    for _ in range(50):
        for call in calls.values():
            await call()
    out: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(n):
        for name, call in calls.items():
            t0 = time.perf_counter()
            await call()
            out[name].append(time.perf_counter() - t0)
    return out


def _cpu_of(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes `pids` have used so far (gone ones: 0)."""
    total = 0.0
    for p in pids:
        try:
            t = psutil.Process(p).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def _cpu_seconds(pids: Callable[[], list[int]]) -> float:
    return _cpu_of([os.getpid(), *pids()])


def popen_pids(procs: list[subprocess.Popen[bytes]]) -> Callable[[], list[int]]:
    return lambda: [q.pid for q in procs if q.poll() is None]


async def cpu_per_call(pids: Callable[[], list[int]],
                       call: Callable[[], Awaitable[object]], n: int = 300) -> float:
    """CPU seconds (user + system, this process and every process `pids` names) per
    sequential call, less what the same processes burn idle over as long a time
    (machined's own work)."""
    before, t0 = _cpu_seconds(pids), time.perf_counter()
    for _ in range(n):
        await call()
    busy, elapsed = _cpu_seconds(pids) - before, time.perf_counter() - t0
    before = _cpu_seconds(pids)
    await asyncio.sleep(elapsed)
    idle = _cpu_seconds(pids) - before
    return max(0.0, busy - idle) / n


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def ms(v: float) -> float:
    return round(v * 1000, 3)


def free_port(hosts: list[str]) -> int:
    while True:
        with socket.socket() as s:
            s.bind((hosts[0], 0))
            port = int(s.getsockname()[1])
        ok = True
        for h in hosts:
            with socket.socket() as s:
                try:
                    s.bind((h, port))
                except OSError:
                    ok = False
        if ok:
            return port


async def wait_ready(channel: grpc.aio.Channel) -> None:
    await asyncio.wait_for(channel.channel_ready(), 60)


async def wait_file(path: Path) -> None:
    for _ in range(6000):
        if await asyncio.to_thread(path.exists):
            return
        await asyncio.sleep(0.01)
    raise RuntimeError(f"{path} never appeared")


CLUSTER_WORKERS = 4


def _kind(proc: psutil.Process) -> str:
    """What a node's process is: `python -m talos <kind> ...` (machined, apid, trustd; forked
    ones show their own command line), the fork server, or the program's name (etcd...)."""
    try:
        args = proc.cmdline()
    except psutil.Error:
        return "other"
    if "talos.machined.system.forkserver" in args:
        return "forkserver"
    for i, arg in enumerate(args[:-2]):
        if arg == "-m" and args[i + 1] == "talos":
            return args[i + 2]
    return os.path.basename(args[0]) if args else "other"


def _role_pids(record: ClusterRecord) -> Callable[[], dict[str, list[int]]]:
    """Every process of every node (machined and what it runs) by role, looked up at each
    call: `entry <kind>` on the control plane the client calls, `workers' <kind>` on the
    other nodes, `client` this process."""
    entry = record.controlplanes[0].name

    def pids() -> dict[str, list[int]]:
        out: dict[str, list[int]] = {"client": [os.getpid()]}
        for n in record.nodes:
            side = "entry" if n.name == entry else "workers'"
            try:
                root = psutil.Process(n.pid)
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for p in procs:
                out.setdefault(f"{side} {_kind(p)}", []).append(p.pid)
        return out
    return pids


async def cpu_per_call_by_role(pids: Callable[[], dict[str, list[int]]],
                               call: Callable[[], Awaitable[object]], n: int = 300
                               ) -> dict[str, float]:
    """CPU seconds per sequential call of each role's processes (as cpu_per_call)."""
    def sample() -> dict[str, float]:
        return {role: _cpu_of(ps) for role, ps in pids().items()}
    before, t0 = sample(), time.perf_counter()
    for _ in range(n):
        await call()
    after, elapsed = sample(), time.perf_counter() - t0
    await asyncio.sleep(elapsed)
    idle_after = sample()
    return {role: max(0.0, (after[role] - before.get(role, 0.0))
                      - (idle_after.get(role, after[role]) - after[role])) / n
            for role in after}


async def cluster_fanout(bench: Bench, tmp: Path) -> dict[str, object]:
    """Version fan-out through a real 5-node sandbox cluster (1 control plane + 4 workers)."""
    name, cidr = cluster_name("bench-api"), free_cidr()
    state, talosconfig = tmp / "clusters", tmp / "talosconfig"
    bench.cleanup(f"destroy cluster {name}", lambda: destroy_cluster(state, name, timeout=10))
    bench.waiting_for(f"`talosctl cluster create` of {name} ({cidr}, 1+{CLUSTER_WORKERS})")
    t0 = time.monotonic()
    res = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "talos", "talosctl", "cluster", "create", "--name", name,
         "--cidr", cidr, "--state", str(state), "--controlplanes", "1",
         "--workers", str(CLUSTER_WORKERS), "--skip-kubeconfig", "--wait-timeout", "5m"],
        env={**os.environ, "TALOSCONFIG": str(talosconfig)}, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, check=False)
    created_s = time.monotonic() - t0
    if res.returncode != 0:
        raise RuntimeError(f"talosctl cluster create failed: {res.stderr[-2000:]}")
    try:
        record = ClusterRecord.load(state / name)
        ctx = Talosconfig.load(talosconfig, missing_ok=False).get()
        addresses = [n.address for n in record.nodes]
        worker = record.workers[0].address
        async with Connection(ConnectionOptions.from_context(ctx)) as conn:
            api = machine_pb2_grpc.MachineServiceStub(conn.channel)
            empty = empty_pb2.Empty()
            one = (("nodes", worker),)
            five = tuple(("nodes", a) for a in addresses)  # as talosctl -n a,b,... sends it
            bench.waiting_for("every node of the cluster to answer Version")
            reply = await api.Version(empty, metadata=five, timeout=60)
            errors = [m.metadata.error for m in reply.messages if m.metadata.error]
            if len(reply.messages) != len(addresses) or errors:
                raise RuntimeError(f"fan-out to the cluster: {len(reply.messages)} replies, "
                                   f"errors {errors}")
            bench.waiting_for("Version fan-out to one and to five real nodes")
            fan = await interleaved({
                "local": lambda: api.Version(empty),
                "one": lambda: api.Version(empty, metadata=one),
                "five": lambda: api.Version(empty, metadata=five)}, FANOUT_CALLS)
            pids = _role_pids(record)
            bench.waiting_for("CPU per call of the cluster's processes")
            by_role_one = await cpu_per_call_by_role(
                pids, lambda: api.Version(empty, metadata=one))
            by_role_five = await cpu_per_call_by_role(
                pids, lambda: api.Version(empty, metadata=five))
    finally:
        bench.waiting_for(f"`talosctl cluster destroy` of {name}")
        await asyncio.to_thread(destroy_cluster, state, name, timeout=10)
    lat1, lat5 = statistics.median(fan["one"]), statistics.median(fan["five"])
    cpu_one, cpu_five = sum(by_role_one.values()), sum(by_role_five.values())
    # The part of a fanned-out call that no other node's CPU can take: the client and the
    # entry node (its apid merges the replies; its machined answers its own Version).
    # With every node on its own CPU, as on real machines, a 5-node call would take about
    # the one-node latency plus the extra CPU of that part (an estimate: it assumes the
    # other nodes answer in parallel within the one-node latency).
    serial = ("client", "entry apid", "entry machined")
    extra_serial = sum(by_role_five.get(r, 0.0) - by_role_one.get(r, 0.0) for r in serial)
    return {
        "nodes": f"sandbox cluster {name}: 1 control plane + {CLUSTER_WORKERS} workers, "
                 "called through the control plane's apid",
        "create_s": round(created_s, 2),
        "entry_node_local_p50_ms": ms(statistics.median(fan["local"])),
        "one_node_p50_ms": ms(lat1),
        "five_nodes_p50_ms": ms(lat5),
        "five_nodes_p99_ms": ms(pct(fan["five"], 0.99)),
        "ratio": round(lat5 / lat1, 2),
        "aim": "ratio <= 1.5",
        "cpu_ms_per_call": {"one_node": ms(cpu_one), "five_nodes": ms(cpu_five)},
        # a 5-node call needs cpu_five / cores of wall time even when perfectly parallel
        "cpu_bound_ratio": round(cpu_five / (os.cpu_count() or 1) / lat1, 2),
        # where that CPU goes, per process role (roles with no CPU either way left out)
        "cpu_ms_per_call_by_role": {
            role: {"one_node": ms(by_role_one.get(role, 0.0)),
                   "five_nodes": ms(by_role_five.get(role, 0.0))}
            for role in sorted({*by_role_one, *by_role_five})
            if max(by_role_one.get(role, 0.0), by_role_five.get(role, 0.0)) >= 5e-6},
        "own_cpus_estimate": {
            "extra_serial_cpu_ms": ms(extra_serial),
            "ratio": round((lat1 + extra_serial) / lat1, 2),
            "is": "one-node p50 plus the extra CPU of the client, the entry apid and the "
                  "entry machined for five nodes, over the one-node p50: the ratio if each "
                  "node had CPUs of its own (an estimate, not a measurement)",
        },
    }


async def main(bench: Bench) -> dict[str, object]:
    procs: list[subprocess.Popen[bytes]] = []
    channels: list[grpc.aio.Channel] = []

    def spawn(*args: str, ready_line: bool = False) -> subprocess.Popen[bytes]:
        p = subprocess.Popen([sys.executable, *args],
                             stdout=subprocess.PIPE if ready_line else subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        procs.append(p)
        bench.track(p.pid)
        return p

    async def ready(p: subprocess.Popen[bytes], what: str) -> None:
        bench.waiting_for(f"{what} to print ready")
        assert p.stdout is not None
        if not await asyncio.to_thread(p.stdout.readline):
            raise RuntimeError(f"{what} exited before it was ready")

    tmp = bench.tempdir("talos-bench-api-")
    ca = CertificateAuthority.generate(organization="talos")
    (tmp / "ca.pem").write_bytes(ca.to_pem().crt)
    for host in [*HOSTS, ECHO_HOST]:
        pair = ca.issue_key_pair(IssueOptions(
            organizations=("os:impersonator",), server=True, client=True,
            ip_addresses=(ipaddress.ip_address(host),)))
        (tmp / f"{host}.crt").write_bytes(pair.crt)
        (tmp / f"{host}.key").write_bytes(pair.key)
    client = ca.issue_key_pair(IssueOptions(organizations=("os:admin",)))
    creds = grpc.ssl_channel_credentials(root_certificates=ca.to_pem().crt,
                                         private_key=client.key,
                                         certificate_chain=client.crt)
    port = free_port([*HOSTS, ECHO_HOST])
    try:
        # node 1: a real machined; nodes 2-5: small backends
        machined_root = tmp / "machined"
        (tmp / "machined.yaml").write_bytes(MACHINED_CONFIG)
        bench.waiting_for("machined (plain mode) to start")
        spawn("-m", "talos", "machined", "--root", str(machined_root),
              "--config", str(tmp / "machined.yaml"))
        machined_sock = machined_root / "system/run/machined/machine.sock"
        sockets = [str(machined_sock)]
        for i, host in enumerate(HOSTS[1:]):
            sock = str(tmp / f"backend-{i}.sock")
            await ready(spawn(__file__, "--backend", sock, host, ready_line=True),
                        f"backend {host}")
            sockets.append(sock)
        stream_sock = str(tmp / "stream.sock")
        await ready(spawn(__file__, "--backend", stream_sock, "stream", ready_line=True),
                    "the streaming backend")
        bench.waiting_for(f"machined's socket {machined_sock}")
        await wait_file(machined_sock)
        for host, sock in zip(HOSTS, sockets, strict=True):
            spawn("-m", "talos", "apid", "--listen", f"{host}:{port}", "--backend", sock,
                  "--remote-port", str(port), "--ca", str(tmp / "ca.pem"),
                  "--cert", str(tmp / f"{host}.crt"), "--key", str(tmp / f"{host}.key"))

        def ch(host: str) -> grpc.aio.Channel:
            c = grpc.aio.secure_channel(f"{host}:{port}", creds)
            channels.append(c)
            return c
        entry = ch(HOSTS[0])
        bench.waiting_for(f"apid on {HOSTS[0]}:{port} to accept connections")
        await wait_ready(entry)
        for h in HOSTS[1:]:
            bench.waiting_for(f"apid on {h}:{port} to accept connections")
            await wait_ready(ch(h))
        api = machine_pb2_grpc.MachineServiceStub(entry)
        empty = empty_pb2.Empty()
        bench.waiting_for("the first Version reply through apid")
        reply_size = (await api.Version(empty)).ByteSize()
        # the floor answers with as many bytes as apid's Version reply
        await ready(spawn(__file__, "--echo", f"{ECHO_HOST}:{port}", str(tmp / "ca.pem"),
                          str(tmp / f"{ECHO_HOST}.crt"), str(tmp / f"{ECHO_HOST}.key"),
                          str(reply_size), ready_line=True), "the echo server (floor)")
        echo_ch = ch(ECHO_HOST)
        bench.waiting_for("the echo server (floor) to accept connections")
        await wait_ready(echo_ch)
        echo = echo_ch.unary_unary("/bench.Echo/Echo")

        stub_api = machine_pb2_grpc.MachineServiceStub(ch(HOSTS[1]))
        async with grpc.aio.insecure_channel(f"unix:{machined_sock}") as mch:
            mapi = machine_pb2_grpc.MachineServiceStub(mch)
            bench.waiting_for("sequential Version calls (apid, floor, stub, machined)")
            seq = await interleaved({
                "apid": lambda: api.Version(empty),
                "floor": lambda: echo(b""),
                "stub": lambda: stub_api.Version(empty),
                "machined": lambda: mapi.Version(empty),
            }, SEQ_CALLS)
        lat, floor_lat = seq["apid"], seq["floor"]
        lat_stub, lat_machined = seq["stub"], seq["machined"]
        bench.waiting_for("Version calls/s through apid and echo calls/s (floor)")
        cps = await calls_per_s(lambda: api.Version(empty))
        floor_cps = await calls_per_s(lambda: echo(b""))

        one = (("nodes", HOSTS[1]),)
        five = (("nodes", ",".join(HOSTS)),)
        bench.waiting_for("Version fan-out to one and to five nodes")
        fan = await interleaved({"one": lambda: api.Version(empty, metadata=one),
                                 "five": lambda: api.Version(empty, metadata=five)},
                                FANOUT_CALLS)
        lat1, lat5 = fan["one"], fan["five"]
        # CPU all processes spend per call: what 2 cores must share in a 5-node fan-out
        cpu_one = await cpu_per_call(popen_pids(procs),
                                     lambda: api.Version(empty, metadata=one))
        cpu_five = await cpu_per_call(popen_pids(procs),
                                      lambda: api.Version(empty, metadata=five))
        reply = await api.Version(empty, metadata=five)
        assert len(reply.messages) == 5 and not any(m.metadata.error
                                                    for m in reply.messages)

        req = machine_pb2.LogsRequest(id="bench", tail_lines=STREAM_CHUNKS)
        async with grpc.aio.insecure_channel(f"unix:{stream_sock}") as direct_ch:
            direct = machine_pb2_grpc.MachineServiceStub(direct_ch)

            async def drain(stub: machine_pb2_grpc.MachineServiceStub,
                            md: tuple[tuple[str, str], ...] = ()) -> float:
                t0 = time.perf_counter()
                total = 0
                async for m in stub.Logs(req, metadata=md):
                    total += len(m.bytes)
                assert total == CHUNK * STREAM_CHUNKS
                return total / (time.perf_counter() - t0) / 2**20
            bench.waiting_for("Logs streams read directly from the backend")
            direct_mbs = max([await drain(direct) for _ in range(2)])
        # a second apid (same node identity) in front of the streaming backend
        stream_port = free_port([HOSTS[0]])
        spawn("-m", "talos", "apid", "--listen", f"{HOSTS[0]}:{stream_port}",
              "--backend", stream_sock, "--ca", str(tmp / "ca.pem"),
              "--cert", str(tmp / f"{HOSTS[0]}.crt"), "--key", str(tmp / f"{HOSTS[0]}.key"))
        sc = grpc.aio.secure_channel(f"{HOSTS[0]}:{stream_port}", creds)
        channels.append(sc)
        bench.waiting_for(f"the streaming apid on {HOSTS[0]}:{stream_port}")
        await wait_ready(sc)
        bench.waiting_for("Logs streams through apid")
        proxied = machine_pb2_grpc.MachineServiceStub(sc)
        proxied_mbs = max([await drain(proxied) for _ in range(2)])
    finally:
        bench.waiting_for("the benchmark's processes to stop")
        for c in channels:
            await c.close()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                await asyncio.to_thread(p.wait, 10)
            except subprocess.TimeoutExpired:
                p.kill()
                await asyncio.to_thread(p.wait)
            if p.stdout is not None:
                p.stdout.close()

    fanout_cluster: dict[str, object]
    if os.environ.get("BENCH_API_CLUSTER", "1") == "0":
        fanout_cluster = {"left_out": "BENCH_API_CLUSTER=0"}
    elif os.geteuid() != 0:
        raise SystemExit("fanout_cluster needs root (a sandbox cluster: namespaces, "
                         "bridges); BENCH_API_CLUSTER=0 leaves it out")
    else:
        fanout_cluster = await cluster_fanout(bench, tmp)

    p50, f50 = statistics.median(lat), statistics.median(floor_lat)
    return {
        "version": {
            "path": "mTLS -> apid -> unix socket -> machined (plain mode)",
            "p50_ms": ms(p50), "p99_ms": ms(pct(lat, 0.99)),
            "floor_p50_ms": ms(f50), "floor_p99_ms": ms(pct(floor_lat, 0.99)),
            "p50_ratio": round(p50 / f50, 2),
            # apid adds a second gRPC hop (unix socket to machined): floor + that hop alone
            "two_hop_bound_ratio": round((f50 + statistics.median(lat_machined)) / f50, 2),
            "calls_per_s": round(cps), "floor_calls_per_s": round(floor_cps),
            "calls_ratio": round(floor_cps / cps, 2),
            "floor": "bare mTLS grpc.aio echo server, async handler, separate process, "
                     f"{reply_size}-byte replies (apid's Version reply)",
            "breakdown_p50_ms": {
                "machined_direct_unix": ms(statistics.median(lat_machined)),
                "apid_to_minimal_backend": ms(statistics.median(lat_stub)),
            },
        },
        "fanout": {
            "one_node_p50_ms": ms(statistics.median(lat1)),
            "five_nodes_p50_ms": ms(statistics.median(lat5)),
            "ratio": round(statistics.median(lat5) / statistics.median(lat1), 2),
            "cores": os.cpu_count(),
            # every process's CPU per call (client, apids, backends): a 5-node call needs
            # cpu_five / cores of wall time even when perfectly parallel
            "cpu_ms_per_call": {"one_node": ms(cpu_one), "five_nodes": ms(cpu_five)},
            "cpu_bound_ratio": round(cpu_five / (os.cpu_count() or 1)
                                     / statistics.median(lat1), 2),
        },
        "fanout_cluster": fanout_cluster,
        "logs_stream": {
            "through_apid_mb_s": round(proxied_mbs, 1), "direct_mb_s": round(direct_mbs, 1),
            "ratio": round(direct_mbs / proxied_mbs, 2),
            "floor": "the same stream read directly from the backend's unix socket",
        },
    }


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--backend":
        asyncio.run(_backend(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--echo":
        ca, crt, key = (Path(p).read_bytes() for p in sys.argv[3:6])
        asyncio.run(_echo(sys.argv[2], ca, crt, key, int(sys.argv[6])))
    else:
        run_async(main, deadline=600)
