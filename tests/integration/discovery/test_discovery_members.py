"""Three plain-mode machined nodes and the discovery service on loopback: every node's
`Members` lists all three (hostnames and machine types), through encrypted affiliate data
the service cannot read."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import grpc
from ruamel.yaml import YAML

from talos.api.discovery.server import cluster_pb2 as dpb
from talos.api.discovery.server import cluster_pb2_grpc
from talos.api.v1alpha1 import state_pb2
from tests.integration.apply.harness import Machined, config, free_port

SECRET = base64.b64encode(bytes(range(32))).decode()


def discovery_extra(port: int) -> str:
    return (f"  id: test-cluster-id\n  secret: {SECRET}\n  discovery:\n    enabled: true\n"
            f"    registries:\n      service:\n        endpoint: http://127.0.0.1:{port}\n")


@asynccontextmanager
async def discovery_service(tmp: Path, port: int) -> AsyncIterator[subprocess.Popen[bytes]]:
    log = (tmp / "discovery.log").open("ab")
    try:
        proc = await asyncio.to_thread(
            subprocess.Popen, [sys.executable, "-m", "talos", "discovery", "--listen",
                               f"127.0.0.1:{port}"], stdout=log, stderr=log)
    finally:
        log.close()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = cluster_pb2_grpc.ClusterStub(ch)  # type: ignore[no-untyped-call]
            while True:
                assert proc.poll() is None, (tmp / "discovery.log").read_text()
                try:
                    await stub.Hello(dpb.HelloRequest(cluster_id="probe"), timeout=2)
                    break
                except grpc.aio.AioRpcError:
                    await asyncio.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.to_thread(proc.wait), 30)
            except TimeoutError:
                proc.kill()
                await asyncio.to_thread(proc.wait)


async def members(node: Machined) -> dict[str, dict[str, object]]:
    resp = node.cosi.List(state_pb2.ListRequest(namespace="cluster",
                                                type="Members.cluster.talos.dev"))
    out: dict[str, dict[str, object]] = {}
    async for item in resp:
        out[item.resource.metadata.id] = YAML(typ="safe").load(item.resource.spec.yaml_spec)
    return out


async def list_affiliates(port: int) -> list[dpb.Affiliate]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = cluster_pb2_grpc.ClusterStub(ch)  # type: ignore[no-untyped-call]
        listed = await stub.List(dpb.ListRequest(cluster_id="test-cluster-id"), timeout=5)
    return list(listed.affiliates)


async def test_every_node_lists_all_members(tmp_path: Path) -> None:
    port = free_port()
    specs = [("disc-cp", "controlplane"), ("disc-w1", "worker"), ("disc-w2", "worker")]
    async with AsyncExitStack() as nodes_stack:
        nodes = [Machined(tmp_path / name, seed=config(name, machine_type=mtype,
                                                        extra=discovery_extra(port)))
                 for name, mtype in specs]
        for n in nodes:
            nodes_stack.push_async_callback(n.stop)
        await run_scenario(tmp_path, port, specs, nodes)


async def run_scenario(tmp_path: Path, port: int, specs: list[tuple[str, str]],
                       nodes: list[Machined]) -> None:
    want = {name: mtype for name, mtype in specs}
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(discovery_service(tmp_path, port))
        await asyncio.gather(*(n.start() for n in nodes))
        for n in nodes:
            while True:
                got = await members(n)
                if {k: v.get("machineType") for k, v in got.items()} == want:
                    break
                assert n.proc is not None and n.proc.poll() is None, n.log()
                await asyncio.sleep(0.1)
            assert all(m["hostname"] == k for k, m in got.items())
            assert len({m["nodeId"] for m in got.values()}) == 3
        # the service holds only ciphertext: no hostname appears in what it stores
        listed = await list_affiliates(port)
        assert len(listed) == 3
        for a in listed:
            assert not any(name.encode() in a.data for name, _ in specs)

    # a restarted service (empty: state is in memory) is filled again by the nodes
    async with discovery_service(tmp_path, port):
        while True:
            if len(await list_affiliates(port)) == 3:
                break
            await asyncio.sleep(0.1)
        for n in nodes:
            while True:
                if {k: v.get("machineType") for k, v in (await members(n)).items()} == want:
                    break
                assert n.proc is not None and n.proc.poll() is None, n.log()
                await asyncio.sleep(0.1)
