#!/usr/bin/env python3
"""Node benchmark (machined as PID 1 of a sandbox); prints one JSON object.

* `launch_to_boot_done_s`: from starting the sandbox to the client seeing the `boot`
  sequence's STOP event over the node socket (one node, containerd among its services);
* `rss_mb`: resident memory of machined and of each service process (name -> MB);
* `version_calls_per_s`: Version over machined's unix socket, 8 calls in flight, beside the
  floor: a bare grpc.aio echo server (separate process, unix socket) in the same run, called
  the same way. `ratio` is floor/measured (higher is slower). Needs root.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import psutil
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2 as m
from talos.api.machine import machine_pb2_grpc
from talos.provision.sandbox import launch

CALLS = 3000
INFLIGHT = 8
CONFIG = b"""version: v1alpha1
machine:
  type: controlplane
  network:
    hostname: bench-node
cluster:
  clusterName: bench
"""

ECHO_SERVER = """
import asyncio, sys, grpc
async def main():
    server = grpc.aio.server()
    def echo(req, ctx):
        return req
    handler = grpc.method_handlers_generic_handler("bench.Echo", {
        "Echo": grpc.unary_unary_rpc_method_handler(echo)})
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port("unix:" + sys.argv[1])
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()
asyncio.run(main())
"""


async def calls_per_s(call) -> float:
    for _ in range(100):  # warm-up
        await call()
    remaining = CALLS

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(INFLIGHT)))
    return CALLS / (time.perf_counter() - t0)


async def boot_time(node) -> float:
    async with grpc.aio.insecure_channel(f"unix:{node.socket}") as ch:
        api = machine_pb2_grpc.MachineServiceStub(ch)
        call = api.Events(m.EventsRequest(tail_events=-1))
        async for ev in call:
            if ev.data.type_url.endswith("machine.SequenceEvent"):
                msg = m.SequenceEvent()
                msg.ParseFromString(ev.data.value)
                if msg.sequence == "boot" and msg.action == m.SequenceEvent.STOP:
                    call.cancel()
                    return time.monotonic()
    raise RuntimeError("event stream ended before boot was done")


async def main() -> dict[str, object]:
    result: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="talos-bench-node-") as tmp:
        t0 = time.monotonic()
        node = await asyncio.to_thread(launch, Path(tmp) / "node", config=CONFIG)
        try:
            await asyncio.to_thread(node.wait_socket)
            result["launch_to_boot_done_s"] = round(await boot_time(node) - t0, 3)
            async with grpc.aio.insecure_channel(f"unix:{node.socket}") as ch:
                api = machine_pb2_grpc.MachineServiceStub(ch)
                # wait for containerd so the RSS figures include the running services
                while True:
                    svcs = (await api.ServiceList(empty_pb2.Empty())).messages[0].services
                    if all(s.state in ("Running", "Skipped") for s in svcs):
                        break
                    await asyncio.sleep(0.05)
                machined = psutil.Process(node.pid)
                rss = {"machined": round(machined.memory_info().rss / 2**20, 1)}
                for child in machined.children(recursive=True):
                    rss[child.name()] = round(child.memory_info().rss / 2**20, 1)
                result["rss_mb"] = rss
                measured = await calls_per_s(lambda: api.Version(empty_pb2.Empty()))
        finally:
            await asyncio.to_thread(node.destroy)
        sock = os.path.join(tmp, "echo.sock")
        echo = await asyncio.to_thread(
            subprocess.Popen, [sys.executable, "-c", ECHO_SERVER, sock],
            stdout=subprocess.PIPE)
        try:
            assert echo.stdout is not None
            await asyncio.to_thread(echo.stdout.readline)
            async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
                rpc = ch.unary_unary("/bench.Echo/Echo")
                floor = await calls_per_s(lambda: rpc(b""))
        finally:
            echo.kill()
            await asyncio.to_thread(echo.wait)
            if echo.stdout is not None:
                echo.stdout.close()
    result["version_calls_per_s"] = {"value": round(measured), "floor": round(floor),
                                     "ratio": round(floor / measured, 2)}
    return result


if __name__ == "__main__":
    if os.geteuid() != 0:
        print(json.dumps({"error": "needs root (namespaces)"}))
        sys.exit(1)
    print(json.dumps(asyncio.run(main()), indent=2))
