#!/usr/bin/env python3
"""etcd benchmark; prints one JSON object.

* `bootstrap_to_healthy_s`: for 1 and 3 control planes (real machined processes in plain
  mode, one loopback address each): from the `Bootstrap` call on the first node to every
  node reporting its etcd service Running and healthy (learners joined and promoted).
  Floor: the same etcd binary and TLS flags started by a plain script as a static cluster
  (`initial-cluster` known up front), until every member answers a linearizable read (each
  member's client port polled every 20 ms first, so the client's reconnect back-off never
  delays it).
* `snapshot_mb_per_s`: EtcdSnapshot streamed through apid (mTLS, `os:etcd:backup`) ->
  machined -> etcd, beside the floor: the same snapshot streamed straight from etcd (its
  Maintenance.Snapshot, same TLS) in this process; `etcdctl snapshot save` (a process start
  and a file write more) is shown too.

Default deadline 600 s (`--deadline`, `$BENCH_DEADLINE`); everything started is removed on
every exit, SIGTERM and SIGINT included (see _harness.py).
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
from _harness import Bench, run_async
from google.protobuf import empty_pb2
from ruamel.yaml import YAML

from talos.api.machine import machine_pb2 as m
from talos.api.machine import machine_pb2_grpc
from talos.apid.server import ApidServer, ApidSettings
from talos.machined.etcd.client import ClientTLS, EtcdClient
from talos.machined.etcd.manager import EtcdManager
from talos.machined.etcd.settings import EtcdSettings
from talos.machined.paths import NodePaths
from talos.machinery.config.generate import GenerateOptions, generate
from talos.machinery.errors import TalosError
from talos.machinery.pki import CertificateAuthority, IssueOptions

DATA_KEYS = 2000
VALUE = b"v" * 10_000  # ~20 MB of values


async def until(check: Callable[[], Awaitable[bool]], interval: float = 0.02) -> None:
    """Poll another process's state (nothing to await on across processes)."""
    while True:
        if await check():
            return
        await asyncio.sleep(interval)


def prefix() -> str:
    return f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"


def node_config(base: str, hostname: str, address: str) -> bytes:
    yaml = YAML()
    docs = list(yaml.load_all(base))
    docs[0]["machine"].setdefault("network", {})["hostname"] = hostname
    docs[0]["cluster"].setdefault("etcd", {})["advertisedSubnets"] = [f"{address}/32"]
    out = io.StringIO()
    yaml.dump_all(docs, out)
    return out.getvalue().encode()


class Machined:
    def __init__(self, bench: Bench, root: Path, config: Path, address: str) -> None:
        self.bench = bench
        self.root, self.config, self.address = root, config, address
        self.proc: asyncio.subprocess.Process | None = None
        self.channel: grpc.aio.Channel | None = None

    @property
    def socket(self) -> Path:
        return self.root / "system/run/machined/machine.sock"

    @property
    def api(self) -> machine_pb2_grpc.MachineServiceStub:
        return machine_pb2_grpc.MachineServiceStub(self.channel)

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "talos", "machined", "--root", str(self.root), "--config",
            str(self.config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.bench.track(self.proc.pid)
        self.bench.waiting_for(f"machined {self.root.name}'s socket")

        async def listening() -> bool:
            return await asyncio.to_thread(self.socket.exists)
        await until(listening)
        self.channel = grpc.aio.insecure_channel(f"unix:{self.socket}")
        await self.channel.channel_ready()

    async def etcd(self) -> tuple[str, bool]:
        resp = await self.api.ServiceList(empty_pb2.Empty())
        s = next(s for s in resp.messages[0].services if s.id == "etcd")
        return s.state, s.health.healthy

    async def stop(self) -> None:
        if self.channel is not None:
            await self.channel.close()
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.proc.wait(), 60)


async def machined_cluster(bench: Bench, tmp: Path, count: int) -> list[Machined]:
    pre = prefix()
    cfgs = generate(GenerateOptions(cluster_name="bench", endpoint=f"https://{pre}.1:6443"))
    nodes = []
    for i in range(1, count + 1):
        cfg = tmp / f"cp-{i}.yaml"
        cfg.write_bytes(node_config(cfgs.controlplane, f"cp-{i}", f"{pre}.{i}"))
        nodes.append(Machined(bench, tmp / f"n{i}", cfg, f"{pre}.{i}"))
    await asyncio.gather(*(n.start() for n in nodes))
    for n in nodes:
        async def waiting(n: Machined = n) -> bool:
            state = (await n.etcd())[0]
            bench.waiting_for(f"etcd of {n.root.name} to be Waiting for Bootstrap (is {state})")
            return state == "Waiting"
        await until(waiting)
    return nodes


async def bootstrap_seconds(bench: Bench, count: int) -> float:
    nodes = await machined_cluster(bench, bench.tempdir("bench-etcd-"), count)
    try:
        t0 = time.perf_counter()
        await nodes[0].api.Bootstrap(m.BootstrapRequest())
        for n in nodes:
            async def healthy(n: Machined = n) -> bool:
                state, ok = await n.etcd()
                bench.waiting_for(f"etcd of {n.root.name} to be Running and healthy (is "
                                  f"{state}, {'healthy' if ok else 'not healthy'})")
                return (state, ok) == ("Running", True)
            await until(healthy)
        return time.perf_counter() - t0
    finally:
        await asyncio.gather(*(n.stop() for n in nodes))


async def port_open(host: str, port: int) -> bool:
    try:
        _reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def plain_script_seconds(bench: Bench, count: int) -> float:
    """The floor: the same etcd, certificates and flags, a static cluster started at once."""
    pre = prefix()
    ca = CertificateAuthority.generate()
    d = str(bench.tempdir("bench-etcd-plain-"))
    mgrs = []
    for i in range(1, count + 1):
        s = EtcdSettings(name=f"p-{i}", address=f"{pre}.{i}", ca=ca.to_pem())
        mgr = EtcdManager(NodePaths(os.path.join(d, f"p{i}")), None,  # type: ignore[arg-type]
                          control_plane=True, settings=s)
        mgr.pki.issue(s)
        mgrs.append(mgr)
    initial = [(mg.settings.name, mg.settings.peer_url) for mg in mgrs]  # type: ignore[union-attr]
    procs = []
    t0 = time.perf_counter()
    try:
        for mg in mgrs:
            await asyncio.to_thread(os.makedirs, mg.data_dir, 0o700, True)
            procs.append(await asyncio.create_subprocess_exec(
                *mg.args(initial, "new"), stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
            bench.track(procs[-1].pid)
        tls = mgrs[0].pki.client_tls()
        for mg in mgrs:
            st = mg.settings
            assert st is not None
            bench.waiting_for(f"bare etcd {st.name} (floor) to answer a linearizable read")
            host, port = st.client_endpoint.rsplit(":", 1)

            # a refused connect would put the client in its reconnect back-off (up to
            # 1 s): knock on the port first, as cheaply as possible
            async def listening(host: str = host, port: int = int(port)) -> bool:
                return await port_open(host, port)
            await until(listening)
            async with EtcdClient([st.client_endpoint], tls, timeout=1.0) as c:
                while True:
                    try:
                        await c.health()
                        break
                    except TalosError:
                        await asyncio.sleep(0.02)
        return time.perf_counter() - t0
    finally:
        for p in procs:
            p.kill()
            await p.wait()


async def snapshot_rates(bench: Bench) -> dict[str, object]:
    tmp = bench.tempdir("bench-etcd-snap-")
    [node] = await machined_cluster(bench, tmp, 1)
    try:
        await node.api.Bootstrap(m.BootstrapRequest())

        async def healthy() -> bool:
            state, ok = await node.etcd()
            bench.waiting_for(f"etcd of {node.root.name} to be Running and healthy (is "
                              f"{state}, {'healthy' if ok else 'not healthy'})")
            return (state, ok) == ("Running", True)
        await until(healthy)
        mgr_pki = node.root / "system/run/secrets/etcd"
        ca = (mgr_pki / "ca.crt").read_bytes()
        crt, key = (mgr_pki / "client.crt").read_bytes(), (mgr_pki / "client.key").read_bytes()
        tls = ClientTLS(ca, crt, key)
        bench.waiting_for(f"{DATA_KEYS} puts into etcd")
        async with EtcdClient([f"{node.address}:2379"], tls) as c:
            for i in range(DATA_KEYS):
                await c.put(f"/bench/{i:06d}".encode(), VALUE)
        # apid in front of the node, an os:etcd:backup client
        osca = CertificateAuthority.generate(organization="talos")
        srv = osca.issue_key_pair(IssueOptions(
            common_name=node.address, organizations=("os:impersonator",),
            ip_addresses=(ipaddress.ip_address(node.address),), server=True, client=True))
        cli = osca.issue_key_pair(IssueOptions(organizations=("os:etcd:backup",)))
        port = 50000 + random.randint(100, 9000)
        apid = ApidServer(ApidSettings(osca.to_pem().crt, srv.crt, srv.key,
                                       listen=f"{node.address}:{port}",
                                       backend_socket=str(node.socket), remote_port=port))
        bench.waiting_for("EtcdSnapshot through apid")
        await apid.start()
        try:
            creds = grpc.ssl_channel_credentials(osca.to_pem().crt, cli.key, cli.crt)
            async with grpc.aio.secure_channel(f"{node.address}:{port}", creds) as ch:
                api = machine_pb2_grpc.MachineServiceStub(ch)
                t0 = time.perf_counter()
                size = 0
                async for chunk in api.EtcdSnapshot(m.EtcdSnapshotRequest()):
                    size += len(chunk.bytes)
                apid_s = time.perf_counter() - t0
        finally:
            await apid.stop(0)
        bench.waiting_for("the snapshot streamed straight from etcd (floor)")
        async with EtcdClient([f"{node.address}:2379"], tls) as c:
            await c.status()  # connected before the clock starts, as apid's path is
            t0 = time.perf_counter()
            direct = 0
            async for _rev, blob in c.snapshot():
                direct += len(blob)
            direct_s = time.perf_counter() - t0
        bench.waiting_for("etcdctl snapshot save")
        out = tmp / "direct.db"
        t0 = time.perf_counter()
        etcdctl = await asyncio.create_subprocess_exec(
            "etcdctl", f"--endpoints=https://{node.address}:2379",
            f"--cacert={mgr_pki / 'ca.crt'}", f"--cert={mgr_pki / 'client.crt'}",
            f"--key={mgr_pki / 'client.key'}", "snapshot", "save", str(out),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "ETCDCTL_API": "3"})
        bench.track(etcdctl.pid)
        if await etcdctl.wait() != 0:
            raise SystemExit("etcdctl snapshot save failed")
        etcdctl_s = time.perf_counter() - t0
        mb = size / 1e6
        return {"snapshot_mb": round(mb, 1),
                "through_apid_mb_per_s": round(mb / apid_s, 1),
                "floor_direct_mb_per_s": round(direct / 1e6 / direct_s, 1),
                "ratio": round((direct / direct_s) / (size / apid_s), 2),
                "etcdctl_save_mb_per_s": round(out.stat().st_size / 1e6 / etcdctl_s, 1),
                "floor": "Maintenance.Snapshot streamed straight from the same etcd (same "
                         "TLS, this process, bytes counted)"}
    finally:
        bench.waiting_for(f"machined {node.root.name} to stop")
        await node.stop()


async def main(bench: Bench) -> dict[str, object]:
    out: dict[str, object] = {}
    for n in (1, 3):
        ours = await bootstrap_seconds(bench, n)
        floor = await plain_script_seconds(bench, n)
        print(f"{n} member(s): {ours:.2f}s (floor {floor:.2f}s)", file=sys.stderr)
        out[f"bootstrap_to_healthy_{n}_members"] = {
            "seconds": round(ours, 2), "floor_seconds": round(floor, 2),
            "ratio": round(ours / floor, 2),
            "floor": "same etcd/TLS flags as a static cluster started by a plain script",
            "note": "" if n == 1 else "runtime joins wait out etcd's 5 s reconfig health window"}
    out["snapshot"] = await snapshot_rates(bench)
    return out


if __name__ == "__main__":
    run_async(main, deadline=600)
