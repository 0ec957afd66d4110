"""SIGKILL of machined at random points during an apply: STATE keeps the old or the new config,
complete and valid, and the node boots with it."""

from __future__ import annotations

import asyncio
import random

from talos.api.machine import machine_pb2 as m
from talos.machined.config import parse_config

from .harness import Machined, config

Mode = m.ApplyConfigurationRequest
KILLS = 50
LANES = 2  # two nodes killed concurrently (2 cores): same number of kills, half the time


async def _lane(node: Machined, kills: int, rng: random.Random) -> list[str]:
    outcomes = []
    current = config("crash-0")
    await node.start()
    for i in range(1, kills + 1):
        # the node booted with what STATE holds (checked through its MachineConfig resource)
        text = await node.resource_text("config", "MachineConfigs.config.talos.dev",
                                        "v1alpha1")
        assert text == current.decode(), (i, text)
        # plain no-reboot applies, and every third an AUTO apply that reboots (re-exec)
        if i % 3 == 0:
            mode = Mode.AUTO
            new = config(f"crash-{i}", machine_type="controlplane"
                         if b"type: worker" in current else "worker")
        else:
            mode = Mode.NO_REBOOT
            new = config(f"crash-{i}", machine_type="controlplane"
                         if b"type: controlplane" in current else "worker")
        call = node.api.ApplyConfiguration(Mode(data=new, mode=mode))
        await asyncio.sleep(rng.uniform(0, 0.03))
        await node.kill()
        call.cancel()
        on_disk = (node.state / "config.yaml").read_bytes()
        assert on_disk in (current, new), (i, on_disk)
        parse_config(on_disk)  # complete and valid
        outcomes.append("new" if on_disk == new and new != current else "old")
        current = on_disk
        await node.start()
    await node.wait_stage("running")
    await node.stop()
    return outcomes


async def test_sigkill_during_apply_leaves_old_or_new_config_and_the_node_boots(tmp_path):
    rng = random.Random(7)
    nodes = [Machined(tmp_path / f"n{lane}", seed=config("crash-0")) for lane in range(LANES)]
    try:
        results = await asyncio.gather(*(
            _lane(node, KILLS // LANES, random.Random(rng.random())) for node in nodes))
    finally:
        for node in nodes:
            await node.kill()
    outcomes = [o for lane in results for o in lane]
    assert len(outcomes) == KILLS
    # the random kill points land both before and after the write
    assert "old" in outcomes and "new" in outcomes, outcomes
