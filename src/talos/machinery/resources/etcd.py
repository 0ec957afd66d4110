"""The `etcd` namespace: this node's etcd membership (`talosctl get etcdmembers`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from talos.machinery.resources.argvalues import ArgValues, arg_values, flag_pairs
from talos.machinery.resources.definition import PrintColumn, ResourceType, declare

__all__ = ["ArgValues", "arg_values"]  # re-exported: etcd was their first home

LOCAL_MEMBER_ID = "local"


@dataclass(frozen=True)
class EtcdMemberSpec:
    """The local etcd member: its ID (hex, as etcdctl prints it) once it has joined."""

    member_id: str = field(default="", metadata={"yaml": "memberID"})


ETCD_MEMBER = declare(ResourceType(
    "EtcdMembers.etcd.talos.dev", "etcd", EtcdMemberSpec,
    print_columns=(PrintColumn("Member ID", "{.memberID}"),)))


@dataclass(frozen=True)
class EtcdConfigSpec:
    """etcd settings taken from the machine config (`cluster.etcd`) on control planes
    (`talosctl get etcdconfig`, id `etcd`). Subnet filters are split as Talos does: entries
    starting with `!` go to the exclude lists."""

    advertise_valid_subnets: tuple[str, ...] = field(default=(), metadata={"omitempty": True})
    advertise_exclude_subnets: tuple[str, ...] = ()
    listen_valid_subnets: tuple[str, ...] = field(default=(), metadata={"omitempty": True})
    listen_exclude_subnets: tuple[str, ...] = ()
    image: str = ""
    extra_args: dict[str, ArgValues] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # decoded from YAML, the values arrive as plain mappings
        object.__setattr__(self, "extra_args", arg_values(self.extra_args))

    @property
    def advertised_subnets(self) -> tuple[str, ...]:
        """The filters in `cluster.etcd.advertisedSubnets` form (`!` marks an exclusion)."""
        return (*self.advertise_valid_subnets, *(f"!{s}" for s in self.advertise_exclude_subnets))

    def flags(self) -> tuple[tuple[str, str], ...]:
        """extraArgs as (flag, value) pairs, sorted by flag, repeated flags kept in order."""
        return flag_pairs(self.extra_args)


#: ID of the etcd config resource.
ETCD_CONFIG_ID = "etcd"

ETCD_CONFIG = declare(ResourceType(
    "EtcdConfigs.etcd.talos.dev", "etcd", EtcdConfigSpec,
    print_columns=(PrintColumn("Image", "{.image}"),)))
