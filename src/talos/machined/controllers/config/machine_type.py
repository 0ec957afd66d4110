"""config.MachineTypeController: the node's role (`MachineTypes.config.talos.dev`,
id `machine-type`) from `machine.type` of the running config; `unknown` without a config
(maintenance mode), as Talos reports it."""

from __future__ import annotations

from typing import Any

from talos.machined.controllers.config.derived import ConfigDerivedController
from talos.machined.controllers.config_tree import at
from talos.machinery.resources.config import (
    MACHINE_TYPE,
    MACHINE_TYPE_ID,
    MachineTypeSpec,
)

UNKNOWN = "unknown"


def machine_type_spec(tree: dict[str, Any]) -> MachineTypeSpec:
    return MachineTypeSpec(str(at(tree, "machine.type") or "") or UNKNOWN)


class MachineTypeController(ConfigDerivedController):
    name = "config.MachineTypeController"
    output = MACHINE_TYPE
    resource_id = MACHINE_TYPE_ID
    derive = staticmethod(machine_type_spec)
