"""The `v1alpha1` namespace: glue resources of the v1alpha1 subsystems (services)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from talos.machinery.resources.definition import PrintColumn, ProtoSpec, ResourceType, declare

if TYPE_CHECKING:
    from google.protobuf.message import Message


@dataclass(frozen=True)
class ServiceSpec:
    """State of one system service, as `talosctl get services` shows it."""

    running: bool = False
    healthy: bool = False
    unknown: bool = False


def _service_proto(s: ServiceSpec) -> Message:
    from talos.api.resource.definitions.v1alpha1 import v1alpha1_pb2 as pb

    return pb.ServiceSpec(running=s.running, healthy=s.healthy, unknown=s.unknown)


SERVICE = declare(ResourceType(
    "Services.v1alpha1.talos.dev", "v1alpha1", ServiceSpec, aliases=("svc",),
    print_columns=(PrintColumn("Running", "{.running}"),
                   PrintColumn("Healthy", "{.healthy}"),
                   PrintColumn("Health Unknown", "{.unknown}")),
    proto=ProtoSpec("talos.api.resource.definitions.v1alpha1.v1alpha1_pb2:ServiceSpec",
                    _service_proto)))


@dataclass(frozen=True)
class TimeStatusSpec:
    """Time sync state of the node (`talosctl get timestatus`, id `node`)."""

    synced: bool = False
    epoch: int = 0
    sync_disabled: bool = False


def _time_status_proto(s: TimeStatusSpec) -> Message:
    from talos.api.resource.definitions.time import time_pb2 as pb

    return pb.StatusSpec(synced=s.synced, epoch=s.epoch, sync_disabled=s.sync_disabled)


TIME_STATUS = declare(ResourceType(
    "TimeStatuses.v1alpha1.talos.dev", "v1alpha1", TimeStatusSpec,
    print_columns=(PrintColumn("Synced", "{.synced}"),),
    proto=ProtoSpec("talos.api.resource.definitions.time.time_pb2:StatusSpec", _time_status_proto)))
