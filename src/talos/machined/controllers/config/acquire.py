"""config.AcquireController: the running machine config as the
`MachineConfigs.config.talos.dev/v1alpha1` resource, which every config-derived controller
reads (as upstream's AcquireController publishes the config it acquired).

The config loaded at boot, applied in place, tried or rolled back is set by the applier on an
`Observed` value; this controller publishes it (and destroys the resource when there is no
config: maintenance mode). The resource is the running config, the one source every reader
takes it from (`running_config(state)`, the parsed form of the resource's text, parsed once);
STATE holds the persisted one (see `apply/store.py`): they differ only while a TRY apply is
pending.
"""

from __future__ import annotations

from collections import OrderedDict

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.cosi.state import State
from talos.machined.config import NodeConfig, parse_config
from talos.machined.controllers.observed import follow, put_or_destroy
from talos.machined.observed import Observed
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG, MachineConfigSpec

#: the running config (None: none yet)
RunningConfig = Observed[NodeConfig | None]

#: resource text -> the config it was published from (the last few: a TRY and its rollback)
_PARSED: OrderedDict[str, NodeConfig] = OrderedDict()
_KEEP = 4


def _remember(text: str, cfg: NodeConfig) -> None:
    _PARSED[text] = cfg
    _PARSED.move_to_end(text)
    while len(_PARSED) > _KEEP:
        _PARSED.popitem(last=False)


def running_config(state: State) -> NodeConfig | None:
    """The node's running config: the MachineConfig resource, parsed (the same object the
    applier validated when it was published this way; a text published otherwise is parsed
    here once)."""
    r = state.get_nowait(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
    if r is None:
        return None
    text = r.spec.text
    cfg = _PARSED.get(text)
    if cfg is None:
        cfg = parse_config(text.encode(), "MachineConfig")
        _remember(text, cfg)
    return cfg


class AcquireController:
    name = "config.AcquireController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(MACHINE_CONFIG),)

    def __init__(self, config: RunningConfig) -> None:
        self.config = config
        config.bind()

    async def run(self, r: ControllerContext) -> None:
        async def write(cfg: NodeConfig | None) -> None:
            spec = None
            if cfg is not None:
                spec = MachineConfigSpec(cfg.raw.decode(errors="replace"))
                _remember(spec.text, cfg)
            await put_or_destroy(r, MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type,
                                 ACTIVE_ID, spec)
        await follow(r, self.config, write)
