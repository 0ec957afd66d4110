"""The `v1alpha1` namespace: glue resources of the v1alpha1 subsystems (services)."""

from __future__ import annotations

from dataclasses import dataclass

from talos.machinery.resources.definition import PrintColumn, ResourceType, declare


@dataclass(frozen=True)
class ServiceSpec:
    """State of one system service, as `talosctl get services` shows it."""

    running: bool = False
    healthy: bool = False
    unknown: bool = False


SERVICE = declare(ResourceType(
    "Services.v1alpha1.talos.dev", "v1alpha1", ServiceSpec, aliases=("svc",),
    print_columns=(PrintColumn("Running", "{.running}"),
                   PrintColumn("Healthy", "{.healthy}"),
                   PrintColumn("Health Unknown", "{.unknown}"))))


@dataclass(frozen=True)
class TimeStatusSpec:
    """Time sync state of the node (`talosctl get timestatus`, id `node`)."""

    synced: bool = False
    epoch: int = 0
    sync_disabled: bool = False


TIME_STATUS = declare(ResourceType(
    "TimeStatuses.v1alpha1.talos.dev", "v1alpha1", TimeStatusSpec,
    print_columns=(PrintColumn("Synced", "{.synced}"),)))
