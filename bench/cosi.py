#!/usr/bin/env python3
"""COSI state and runtime benchmark; prints one JSON object.

Figures, each beside its floor measured in the same run (a bare dict update with a version
check and bump, an event into a bounded history and an asyncio.Queue hand-off to the same
number of consumers; see floor_updates):

* updates/s to one type with 0, 1 and 100 watchers (every watcher receives every event);
* p50/p99 latency from an update to a watcher seeing it;
* p50/p99 latency for a change to flow through a chain of 3 controllers.

`ratio` is measured/floor (time-based: higher is slower). Aim: within 3x.
Throughputs are the best of 3 interleaved runs of each side. Default deadline 600 s
(`--deadline`, `$BENCH_DEADLINE`; see _harness.py).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import deque
from dataclasses import dataclass

from _harness import Bench, run_async

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.cosi.resource import Resource
from talos.cosi.runtime import Runtime
from talos.cosi.state import State
from talos.cosi.state.state import DEFAULT_HISTORY

NS, TYPE = "bench", "Items.bench.talos.dev"
UPDATES = 20_000
BATCH = 100  # the writer yields to the loop every BATCH updates (same in floor and measured)
LATENCY_SAMPLES = 2_000


@dataclass(frozen=True)
class Val:
    value: int = 0


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


async def _consume_watch(w, n: int) -> None:
    got = 0
    async for _ in w:
        got += 1
        if got == n:
            return


async def state_updates(watchers: int) -> float:
    state = State(watch_buffer=UPDATES + 10)
    r = await state.create(Resource.new(NS, TYPE, "x", Val(0)))
    ws = [state.watch(NS, TYPE, bootstrap=False) for _ in range(watchers)]
    try:
        t0 = time.perf_counter()
        async with asyncio.TaskGroup() as tg:
            for w in ws:
                tg.create_task(_consume_watch(w, UPDATES))
            for i in range(UPDATES):
                r = await state.update(r.with_spec(Val(i)))
                if i % BATCH == BATCH - 1:
                    await asyncio.sleep(0)
        return UPDATES / (time.perf_counter() - t0)
    finally:
        for w in ws:
            w.close()


async def _consume_queue(q: asyncio.Queue, n: int) -> None:
    for _ in range(n):
        await q.get()


async def floor_updates(consumers: int) -> float:
    """The least any versioned store with ordered change events does per update: check the
    expected version (optimistic concurrency), store (version + 1, value), build an event
    carrying the new and the old entry, keep it in a bounded history (what `tail_events`
    replays) and hand it to each consumer's queue. No owner/phase checks, no timestamps, no
    async call: those are the state's own overhead, measured against this."""
    d: dict[str, tuple[int, Val]] = {"x": (1, Val(0))}
    hist: deque[tuple[int, tuple[int, Val], tuple[int, Val]]] = deque(maxlen=DEFAULT_HISTORY)
    qs: list[asyncio.Queue] = [asyncio.Queue() for _ in range(consumers)]
    version = 1
    t0 = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for q in qs:
            tg.create_task(_consume_queue(q, UPDATES))
        for i in range(UPDATES):
            cur = d["x"]
            if cur[0] != version:
                raise RuntimeError("version conflict")
            version += 1
            new = (version, Val(i))
            d["x"] = new
            ev = (1, new, cur)
            hist.append(ev)
            for q in qs:
                q.put_nowait(ev)
            if i % BATCH == BATCH - 1:
                await asyncio.sleep(0)
    return UPDATES / (time.perf_counter() - t0)


async def state_latency() -> list[float]:
    state = State()
    r = await state.create(Resource.new(NS, TYPE, "x", Val(0)))
    out: list[float] = []
    with state.watch(NS, TYPE, "x") as w:
        await w.next()
        for i in range(LATENCY_SAMPLES):
            t0 = time.perf_counter()
            r = await state.update(r.with_spec(Val(i)))
            await w.next()
            out.append(time.perf_counter() - t0)
    return out


async def floor_latency() -> list[float]:
    d: dict[str, object] = {}
    q: asyncio.Queue = asyncio.Queue()
    out: list[float] = []
    for i in range(LATENCY_SAMPLES):
        t0 = time.perf_counter()
        d["x"] = Val(i)
        q.put_nowait(d["x"])
        await q.get()
        out.append(time.perf_counter() - t0)
    return out


class Step:
    def __init__(self, src: str, dst: str) -> None:
        self.name = f"bench.{src}{dst}"
        self.src, self.dst = f"{src}s.bench.talos.dev", f"{dst}s.bench.talos.dev"
        self.inputs = (Input(NS, self.src, id="x"),)
        self.outputs = (Output(self.dst),)

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            res = await r.get(NS, self.src, "x")
            if res is not None:
                await r.put(NS, self.dst, "x", Val(res.spec.value))


async def chain_latency() -> list[float]:
    state = State()
    rt = Runtime(state)
    for s, d in (("A", "B"), ("B", "C"), ("C", "D")):
        rt.register(Step(s, d))
    out: list[float] = []
    a = await state.create(Resource.new(NS, "As.bench.talos.dev", "x", Val(-1)))
    task = asyncio.create_task(rt.run())
    try:
        with state.watch(NS, "Ds.bench.talos.dev", "x") as w:
            async for ev in w:  # wait for the chain to settle on the initial value
                if ev.resource is not None and ev.resource.spec == Val(-1):
                    break
            for i in range(LATENCY_SAMPLES // 4):
                t0 = time.perf_counter()
                a = await state.update(a.with_spec(Val(i)))
                async for ev in w:
                    if ev.resource is not None and ev.resource.spec == Val(i):
                        break
                out.append(time.perf_counter() - t0)
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    return out


async def floor_chain_latency() -> list[float]:
    qs: list[asyncio.Queue] = [asyncio.Queue() for _ in range(4)]
    d: dict[str, object] = {}

    async def hop(i: int) -> None:
        while True:
            item = await qs[i].get()
            d[f"k{i + 1}"] = item
            qs[i + 1].put_nowait(item)

    out: list[float] = []
    async with asyncio.TaskGroup() as tg:
        hops = [tg.create_task(hop(i)) for i in range(3)]
        for i in range(LATENCY_SAMPLES // 4):
            t0 = time.perf_counter()
            d["k0"] = Val(i)
            qs[0].put_nowait(d["k0"])
            await qs[3].get()
            out.append(time.perf_counter() - t0)
        for h in hops:
            h.cancel()
    return out


def lat(samples: list[float], floor: list[float]) -> dict[str, float]:
    p50, p99 = statistics.median(samples), pct(samples, 99)
    f50, f99 = statistics.median(floor), pct(floor, 99)
    return {"p50_us": round(p50 * 1e6, 2), "p99_us": round(p99 * 1e6, 2),
            "floor_p50_us": round(f50 * 1e6, 2), "floor_p99_us": round(f99 * 1e6, 2),
            "ratio_p50": round(p50 / f50, 2), "ratio_p99": round(p99 / f99, 2)}


async def main(bench: Bench) -> dict[str, object]:
    result: dict[str, object] = {}
    for n in (0, 1, 100):
        bench.waiting_for(f"updates/s with {n} watchers")
        # best of 3 for both (interleaved), so a noisy neighbour hurts neither side alone
        ups = floor = 0.0
        for _ in range(3):
            ups = max(ups, await state_updates(n))
            floor = max(floor, await floor_updates(n))
        result[f"updates_per_s_{n}_watchers"] = {
            "value": round(ups), "floor": round(floor), "ratio": round(floor / ups, 2)}
    bench.waiting_for("update-to-watcher latency")
    result["update_to_watcher_latency"] = lat(await state_latency(), await floor_latency())
    bench.waiting_for("three-controller chain latency")
    result["three_controller_chain_latency"] = lat(await chain_latency(),
                                                   await floor_chain_latency())
    return result


if __name__ == "__main__":
    run_async(main, deadline=600)
