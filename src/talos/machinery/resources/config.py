"""The `config` namespace: the node's machine configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from talos.machinery.resources.definition import ProtoSpec, ResourceType, declare

if TYPE_CHECKING:
    from google.protobuf.message import Message

#: the generated module of upstream's spec messages (imported by the converters)
_PB = "talos.api.resource.config.config_pb2"

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


def _machine_config_proto(s: MachineConfigSpec) -> Message:
    """Upstream keeps the config document bytes as submitted (`yaml_marshalled`)."""
    from talos.api.resource.config import config_pb2 as pb

    return pb.MachineConfigSpec(yaml_marshalled=s.text.encode())


MACHINE_CONFIG = declare(ResourceType(
    "MachineConfigs.config.talos.dev", "config", MachineConfigSpec,
    aliases=("mc",), sensitive=True,
    proto=ProtoSpec(f"{_PB}:MachineConfigSpec", _machine_config_proto)))


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

def _machine_type_proto(s: MachineTypeSpec) -> Message:
    from talos.api.resource.config import config_pb2 as pb
    from talos.machinery.resources import protoconv as pc

    return pb.MachineTypeSpec(
        machine_type=pc.enum(pc.MACHINE_TYPES, s.machine_type, "MachineType.machineType"))


MACHINE_TYPE = declare(ResourceType("MachineTypes.config.talos.dev", "config", MachineTypeSpec,
    proto=ProtoSpec(f"{_PB}:MachineTypeSpec", _machine_type_proto)))
