"""The `runtime` namespace (the subset declared so far)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from talos.machinery.resources.definition import PrintColumn, ProtoSpec, ResourceType, declare

if TYPE_CHECKING:
    from google.protobuf.message import Message

#: the generated module of upstream's spec messages (imported by the converters)
_PB = "talos.api.resource.definitions.runtime.runtime_pb2"


@dataclass(frozen=True)
class UnmetCondition:
    name: str = ""
    reason: str = ""

@dataclass(frozen=True)
class MachineStatusStatus:
    ready: bool = False
    unmet_conditions: tuple[UnmetCondition, ...] = ()

@dataclass(frozen=True)
class MachineStatusSpec:
    """Boot stage and readiness of the machine (`talosctl get machinestatus`)."""

    stage: str = "unknown"
    status: MachineStatusStatus = MachineStatusStatus()

def _machine_status_proto(s: MachineStatusSpec) -> Message:
    from talos.api.resource.definitions.runtime import runtime_pb2 as pb
    from talos.machinery.resources import protoconv as pc

    return pb.MachineStatusSpec(
        stage=pc.enum(pc.MACHINE_STAGES, s.stage, "MachineStatus.stage"),
        status=pb.MachineStatusStatus(
            ready=s.status.ready,
            unmet_conditions=[pb.UnmetCondition(name=c.name, reason=c.reason)
                              for c in s.status.unmet_conditions]))


MACHINE_STATUS = declare(ResourceType(
    "MachineStatuses.runtime.talos.dev", "runtime", MachineStatusSpec,
    print_columns=(PrintColumn("Stage", "{.stage}"), PrintColumn("Ready", "{.status.ready}")),
    proto=ProtoSpec(f"{_PB}:MachineStatusSpec", _machine_status_proto)))


@dataclass(frozen=True)
class MetaKeySpec:
    """The value of one key in META (`talosctl get meta`); id `0x0a` (upstream's
    `MetaKeyTagToID`). Upstream keeps the value as a string: bytes that are not UTF-8 show
    with U+FFFD in their place (a protobuf string cannot carry them)."""

    value: str = ""

def _meta_key_proto(s: MetaKeySpec) -> Message:
    from talos.api.resource.definitions.runtime import runtime_pb2 as pb

    return pb.MetaKeySpec(value=s.value)


META_KEY = declare(ResourceType(
    "MetaKeys.runtime.talos.dev", "runtime", MetaKeySpec, aliases=("meta",),
    print_columns=(PrintColumn("Value", "{.value}"),),
    proto=ProtoSpec(f"{_PB}:MetaKeySpec", _meta_key_proto)))
