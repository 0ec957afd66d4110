"""runtime.MachineStatusController: the `MachineStatus` resource (runtime namespace, id
`machine`): the node's boot stage and readiness, as `talosctl get machinestatus` and the
cluster health check read them.

The stage is set by the sequences (`booting`, `running`, `maintenance`, `rebooting`,
`shuttingDown`, `resetting`) through an `Observed` value; this controller publishes it.
(`MachineType` comes from `config.MachineTypeController`.)
"""

from __future__ import annotations

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.observed import follow
from talos.machined.observed import Observed
from talos.machinery.resources.runtime import (
    MACHINE_STATUS,
    MachineStatusSpec,
    MachineStatusStatus,
    UnmetCondition,
)

ID = "machine"

#: what the sequences set: None until the first stage
MachineStage = Observed[MachineStatusSpec | None]


def machine_status(stage: str, *, ready: bool = False,
                   unmet: tuple[tuple[str, str], ...] = ()) -> MachineStatusSpec:
    return MachineStatusSpec(stage=stage, status=MachineStatusStatus(
        ready=ready, unmet_conditions=tuple(UnmetCondition(n, r) for n, r in unmet)))


class MachineStatusController:
    name = "runtime.MachineStatusController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(MACHINE_STATUS),)

    def __init__(self, stage: MachineStage) -> None:
        self.stage = stage
        stage.bind()

    async def run(self, r: ControllerContext) -> None:
        async def write(spec: MachineStatusSpec | None) -> None:
            if spec is not None:
                await r.put(MACHINE_STATUS.default_namespace, MACHINE_STATUS.type, ID, spec)
        await follow(r, self.stage, write)
