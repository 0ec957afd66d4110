"""The `runtime` namespace (the subset declared so far)."""

from __future__ import annotations

from dataclasses import dataclass

from talos.machinery.resources.definition import PrintColumn, ResourceType, declare


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

MACHINE_STATUS = declare(ResourceType(
    "MachineStatuses.runtime.talos.dev", "runtime", MachineStatusSpec,
    print_columns=(PrintColumn("Stage", "{.stage}"), PrintColumn("Ready", "{.status.ready}"))))
