"""The running machine config as the `MachineConfigs.config.talos.dev/v1alpha1` resource.

Controllers derive everything else from it (hostname, addresses, time servers, services).
The resource is the running config; STATE holds the persisted one (see `store.py`): they
differ only while a TRY apply is pending.
"""

from __future__ import annotations

from talos.cosi.resource import Resource
from talos.cosi.state import State
from talos.machined.config import NodeConfig
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG, MachineConfigSpec

#: the resource is written by machined's config loader and ApplyConfiguration, no controller
OWNER = ""


async def publish(state: State, config: NodeConfig | None) -> None:
    """Create, update or (config None) destroy the MachineConfig resource."""
    ns, rtype = MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type
    cur = state.get_nowait(ns, rtype, ACTIVE_ID)
    if config is None:
        if cur is not None:
            await state.teardown_and_destroy(cur.pointer, owner=OWNER)
        return
    spec = MachineConfigSpec(config.raw.decode(errors="replace"))
    if cur is None:
        await state.create(Resource.new(ns, rtype, ACTIVE_ID, spec), owner=OWNER)
    elif cur.spec != spec:
        await state.update(cur.with_spec(spec), owner=OWNER)
