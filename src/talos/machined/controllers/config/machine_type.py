"""config.MachineTypeController: the node's role (`MachineTypes.config.talos.dev`,
id `machine-type`) from `machine.type` of the running config; `unknown` without a config
(maintenance mode), as Talos reports it."""

from __future__ import annotations

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.config_tree import at, v1alpha1
from talos.machinery.resources.config import (
    ACTIVE_ID,
    MACHINE_CONFIG,
    MACHINE_TYPE,
    MACHINE_TYPE_ID,
    MachineTypeSpec,
)

UNKNOWN = "unknown"


class MachineTypeController:
    name = "config.MachineTypeController"
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID),)
    outputs: tuple[Output, ...] = (Output.of(MACHINE_TYPE),)

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            cfg = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
            machine_type = str(at(v1alpha1(cfg), "machine.type") or "") or UNKNOWN
            await r.put(MACHINE_TYPE.default_namespace, MACHINE_TYPE.type, MACHINE_TYPE_ID,
                        MachineTypeSpec(machine_type))
