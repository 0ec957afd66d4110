"""network.TimeServerSpecController: the NTP servers the node uses, from the machine config.

Only servers named in `machine.time.servers` are listed (and ever queried); a config naming
none leaves the list empty: a sandbox node keeps the host kernel's clock.
"""

from __future__ import annotations

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.config_tree import at, v1alpha1
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import TIME_SERVER_STATUS, TimeServerStatusSpec

ID = "timeservers"


class TimeServerStatusController:
    name = "network.TimeServerSpecController"
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID),)
    outputs: tuple[Output, ...] = (Output.of(TIME_SERVER_STATUS),)

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            cfg = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
            servers = at(v1alpha1(cfg), "machine.time.servers") or []
            await r.put(TIME_SERVER_STATUS.default_namespace, TIME_SERVER_STATUS.type, ID,
                        TimeServerStatusSpec(tuple(str(s) for s in servers)))
