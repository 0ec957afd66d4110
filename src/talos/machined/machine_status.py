"""The `MachineStatus` resource (runtime namespace): the node's boot stage and readiness, as
`talosctl get` and the cluster health check read it. (`MachineType` comes from
`config.MachineTypeController`.)"""

from __future__ import annotations

from talos.cosi.resource import Resource
from talos.cosi.state import State
from talos.machinery.resources.runtime import (
    MACHINE_STATUS,
    MachineStatusSpec,
    MachineStatusStatus,
    UnmetCondition,
)

OWNER = "runtime.MachineStatusController"
ID = "machine"


async def publish(state: State, stage: str, *, ready: bool = False,
                  unmet: tuple[tuple[str, str], ...] = ()) -> None:
    """Set the stage (`booting`, `running`, `rebooting`, `shuttingDown`, `resetting`)."""
    spec = MachineStatusSpec(stage=stage, status=MachineStatusStatus(
        ready=ready, unmet_conditions=tuple(UnmetCondition(n, r) for n, r in unmet)))
    ns, rtype = MACHINE_STATUS.default_namespace, MACHINE_STATUS.type
    cur = state.get_nowait(ns, rtype, ID)
    if cur is None:
        await state.create(Resource.new(ns, rtype, ID, spec), owner=OWNER)
    elif cur.spec != spec:
        await state.update(cur.with_spec(spec), owner=OWNER)

