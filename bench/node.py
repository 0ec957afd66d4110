#!/usr/bin/env python3
"""Node benchmark (machined as PID 1 of a sandbox); prints one JSON object.

The node is a control plane with a generated config (OS CA: apid and trustd issue their
certificates) and an address: `eth0`, one end of a veth pair made inside the node's network
namespace (it goes away with the node; nothing is added on the host), so apid and trustd,
which wait for the node's address as on a real node, start. etcd is bootstrapped over the
node socket, as `talosctl bootstrap` does.

* `launch_to_boot_done_s`: from starting the sandbox to the client seeing the `boot`
  sequence's STOP event over the node socket;
* `launch_to_services_up_s`: to every service Running and healthy (etcd bootstrapped;
  Skipped services, e.g. kubelet without Kubernetes binaries, count as settled);
* `rss_mb`: resident memory of machined and of each service process (name -> MB);
* `version_calls_per_s`: Version over machined's unix socket, 8 calls in flight, beside the
  floor: a bare grpc.aio echo server (async handler, separate process, unix socket, replies
  as large as Version's) in the same run, called the same way. `ratio` is floor/measured
  (higher is slower). Needs root.

Default deadline 240 s (`--deadline`, `$BENCH_DEADLINE`); everything started is removed on
every exit, SIGTERM and SIGINT included (see _harness.py).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import psutil
from _harness import Bench, run_async
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2 as m
from talos.api.machine import machine_pb2_grpc
from talos.machinery.config.generate import GenerateOptions, generate
from talos.provision.create import node_config
from talos.provision.sandbox import SandboxNode, launch

CALLS = 3000
INFLIGHT = 8
ADDRESS = "10.5.0.2/24"
HOSTNAME = "bench-node"

ECHO_SERVER = """
import asyncio, sys, grpc
async def main():
    reply = b"x" * int(sys.argv[2])
    async def echo(req, ctx):
        return reply
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler("bench.Echo", {
        "Echo": grpc.unary_unary_rpc_method_handler(echo)})
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port("unix:" + sys.argv[1])
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()
asyncio.run(main())
"""


def give_address(node: SandboxNode) -> None:
    """eth0 with ADDRESS inside the node: a veth pair whose both ends stay in the node's
    network namespace (this kernel has no dummy links)."""
    script = (f"link add eth0 type veth peer name bench0\n"
              f"link set bench0 up\n"
              f"addr add {ADDRESS} dev eth0\n"
              f"link set eth0 up\n")
    subprocess.run(["nsenter", f"--net=/proc/{node.pid}/ns/net", "ip", "-batch", "-"],
                   input=script.encode(), check=True, capture_output=True, timeout=30)


async def calls_per_s(call: Callable[[], Awaitable[object]]) -> float:
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


async def boot_done(api: machine_pb2_grpc.MachineServiceStub) -> float:
    call = api.Events(m.EventsRequest(tail_events=-1))
    async for ev in call:
        if ev.data.type_url.endswith("machine.SequenceEvent"):
            msg = m.SequenceEvent()
            msg.ParseFromString(ev.data.value)
            if msg.sequence == "boot" and msg.action == m.SequenceEvent.STOP:
                call.cancel()
                return time.monotonic()
    raise RuntimeError("the node's event stream ended before boot was done")


def unsettled(services: list[m.ServiceInfo]) -> list[str]:
    """What keeps the node from being up: each service neither Skipped nor Running and
    healthy, with the last event it reported."""
    out = []
    for s in services:
        if s.state == "Skipped" or (s.state == "Running" and s.health.healthy):
            continue
        last = s.events.events[-1].msg if s.events.events else "no event yet"
        if s.state == "Running":
            last = f"not healthy yet ({s.health.last_message or last})"
        out.append(f"service {s.id} still {s.state}: {last}")
    return out


async def services_up(bench: Bench, api: machine_pb2_grpc.MachineServiceStub) -> float:
    """Wait (polling ServiceList: a snapshot of other processes) until nothing is unsettled;
    the deadline names what still was."""
    while True:
        reply = await api.ServiceList(empty_pb2.Empty())
        left = unsettled(list(reply.messages[0].services))
        if not left:
            return time.monotonic()
        bench.waiting_for("; ".join(left))
        await asyncio.sleep(0.05)


async def node_figures(bench: Bench, tmp: Path) -> tuple[dict[str, object], float, int]:
    gen = generate(GenerateOptions(cluster_name="bench", endpoint=f"https://{ADDRESS[:-3]}:6443",
                                   discovery=False), with_talosconfig=False)
    config = node_config(gen.controlplane, HOSTNAME, ()).encode()
    result: dict[str, object] = {}
    bench.waiting_for("the sandbox to start")
    t0 = time.monotonic()
    node = await asyncio.to_thread(launch, tmp / "node", name=HOSTNAME, config=config)
    bench.cleanup(f"destroy the sandbox (machined pid {node.pid})", node.destroy)
    if not node.pid:
        raise RuntimeError(f"machined did not start: {node.log_tail()}")
    bench.waiting_for("the node's eth0 to be made")
    await asyncio.to_thread(give_address, node)
    bench.waiting_for("machined's socket")
    await asyncio.to_thread(node.wait_socket, bench.remaining())
    async with grpc.aio.insecure_channel(f"unix:{node.socket}") as ch:
        api = machine_pb2_grpc.MachineServiceStub(ch)
        bench.waiting_for("the boot sequence's STOP event")
        result["launch_to_boot_done_s"] = round(await boot_done(api) - t0, 3)
        bench.waiting_for("Bootstrap (etcd) to be accepted")
        await api.Bootstrap(m.BootstrapRequest())
        result["launch_to_services_up_s"] = round(await services_up(bench, api) - t0, 3)
        bench.waiting_for("the resident memory of the node's processes")
        machined = psutil.Process(node.pid)
        rss = {"machined": round(machined.memory_info().rss / 2**20, 1)}
        for child in machined.children(recursive=True):
            name = child.name()
            if name.startswith("python"):  # apid, trustd: `python -m talos <name>`
                name = next((a for a in child.cmdline()[3:4]), name)
            rss[name] = round(rss.get(name, 0.0) + child.memory_info().rss / 2**20, 1)
        result["rss_mb"] = rss
        bench.waiting_for("Version calls over machined's socket")
        version = api.Version(empty_pb2.Empty())
        reply_size = (await version).ByteSize()
        measured = await calls_per_s(lambda: api.Version(empty_pb2.Empty()))
    bench.waiting_for("the sandbox to stop")
    await asyncio.to_thread(node.destroy)
    return result, measured, reply_size


async def floor_calls_per_s(bench: Bench, tmp: Path, reply_size: int) -> float:
    sock = str(tmp / "echo.sock")
    bench.waiting_for("the echo server (floor) to start")
    echo = await asyncio.create_subprocess_exec(
        sys.executable, "-c", ECHO_SERVER, sock, str(reply_size),
        stdout=asyncio.subprocess.PIPE)
    bench.track(echo.pid)
    assert echo.stdout is not None
    if not await echo.stdout.readline():
        raise RuntimeError("the echo server exited before it was ready")
    bench.waiting_for("echo calls (floor)")
    async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
        rpc = ch.unary_unary("/bench.Echo/Echo")
        floor = await calls_per_s(lambda: rpc(b""))
    echo.kill()
    await echo.wait()
    return floor


async def main(bench: Bench) -> dict[str, object]:
    tmp = bench.tempdir("talos-bench-node-")
    result, measured, reply_size = await node_figures(bench, tmp)
    floor = await floor_calls_per_s(bench, tmp, reply_size)
    result["version_calls_per_s"] = {
        "value": round(measured), "floor": round(floor), "ratio": round(floor / measured, 2),
        "floor_is": f"bare grpc.aio echo server, async handler, unix socket, {reply_size}-byte "
                    "replies (Version's size)"}
    return result


if __name__ == "__main__":
    run_async(main, deadline=240, needs_root="namespaces")
