"""The `MachineStatus` resource (runtime namespace): the node's boot stage and readiness, and
`MachineType` (config namespace): its role, as `talosctl get` and the cluster health check
read them."""

from __future__ import annotations

from talos.cosi.resource import Resource
from talos.cosi.state import State
from talos.machinery.resources.config import MACHINE_TYPE, MACHINE_TYPE_ID, MachineTypeSpec
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


async def publish_machine_type(state: State, machine_type: str) -> None:
    spec = MachineTypeSpec(machine_type)
    ns, rtype = MACHINE_TYPE.default_namespace, MACHINE_TYPE.type
    cur = state.get_nowait(ns, rtype, MACHINE_TYPE_ID)
    if cur is None:
        await state.create(Resource.new(ns, rtype, MACHINE_TYPE_ID, spec), owner=OWNER)
    elif cur.spec != spec:
        await state.update(cur.with_spec(spec), owner=OWNER)
