"""The `cluster` namespace (the subset declared so far)."""

from __future__ import annotations

from dataclasses import dataclass

from talos.machinery.resources.definition import PrintColumn, ResourceType, declare


@dataclass(frozen=True)
class MemberSpec:
    """A cluster member as discovery sees it (`talosctl get members`)."""

    node_id: str = ""
    addresses: tuple[str, ...] = ()
    hostname: str = ""
    machine_type: str = ""
    operating_system: str = ""


MEMBER = declare(ResourceType(
    "Members.cluster.talos.dev", "cluster", MemberSpec,
    print_columns=(PrintColumn("Hostname", "{.hostname}"),
                   PrintColumn("Machine Type", "{.machineType}"),
                   PrintColumn("OS", "{.operatingSystem}"),
                   PrintColumn("Addresses", "{.addresses}"))))
