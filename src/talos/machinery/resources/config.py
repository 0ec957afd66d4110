"""The `config` namespace: the node's machine configuration."""

from __future__ import annotations

from dataclasses import dataclass

from talos.machinery.resources.definition import ResourceType, declare

#: ID of the active machine config resource.
ACTIVE_ID = "v1alpha1"


@dataclass(frozen=True)
class MachineConfigSpec:
    """The machine config as its (multi-document) YAML text; rendered as-is."""

    text: str = ""

    def to_yaml(self) -> str:
        return self.text

    @classmethod
    def from_yaml(cls, text: str) -> MachineConfigSpec:
        return cls(text)


MACHINE_CONFIG = declare(ResourceType(
    "MachineConfigs.config.talos.dev", "config", MachineConfigSpec,
    aliases=("mc",), sensitive=True))


@dataclass(frozen=True)
class MachineTypeSpec:
    """The node's role from its config (`controlplane`, `worker`, `init`); YAML is the bare
    string, as Talos renders it."""

    machine_type: str = ""

    def to_yaml(self) -> str:
        return self.machine_type + "\n"

    @classmethod
    def from_yaml(cls, text: str) -> MachineTypeSpec:
        return cls(text.strip())


#: ID of the node's machine type resource.
MACHINE_TYPE_ID = "machine-type"

MACHINE_TYPE = declare(ResourceType("MachineTypes.config.talos.dev", "config", MachineTypeSpec))
