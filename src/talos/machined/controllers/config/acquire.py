"""config.AcquireController: the running machine config as the
`MachineConfigs.config.talos.dev/v1alpha1` resource, which every config-derived controller
reads (as upstream's AcquireController publishes the config it acquired).

The config loaded at boot, applied in place, tried or rolled back is set by the applier on an
`Observed` value; this controller publishes it (and destroys the resource when there is no
config: maintenance mode). The resource is the running config; STATE holds the persisted one
(see `apply/store.py`): they differ only while a TRY apply is pending.
"""

from __future__ import annotations

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.config import NodeConfig
from talos.machined.controllers.observed import follow, put_or_destroy
from talos.machined.observed import Observed
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG, MachineConfigSpec

#: the running config (None: none yet)
RunningConfig = Observed[NodeConfig | None]


class AcquireController:
    name = "config.AcquireController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(MACHINE_CONFIG),)

    def __init__(self, config: RunningConfig) -> None:
        self.config = config
        config.bind()

    async def run(self, r: ControllerContext) -> None:
        async def write(cfg: NodeConfig | None) -> None:
            spec = None if cfg is None else MachineConfigSpec(cfg.raw.decode(errors="replace"))
            await put_or_destroy(r, MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type,
                                 ACTIVE_ID, spec)
        await follow(r, self.config, write)
