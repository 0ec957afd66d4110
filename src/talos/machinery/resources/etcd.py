"""The `etcd` namespace: this node's etcd membership (`talosctl get etcdmembers`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from talos.machinery.resources.argvalues import ArgValues, arg_values, flag_pairs
from talos.machinery.resources.definition import PrintColumn, ProtoSpec, ResourceType, declare

if TYPE_CHECKING:
    from google.protobuf.message import Message

#: the generated module of upstream's spec messages (imported by the converters)
_PB = "talos.api.resource.definitions.etcd.etcd_pb2"

__all__ = ["ArgValues", "arg_values"]  # re-exported: etcd was their first home

LOCAL_MEMBER_ID = "local"


@dataclass(frozen=True)
class EtcdMemberSpec:
    """The local etcd member: its ID (hex, as etcdctl prints it) once it has joined."""

    member_id: str = field(default="", metadata={"yaml": "memberID"})


def _etcd_member_proto(s: EtcdMemberSpec) -> Message:
    from talos.api.resource.definitions.etcd import etcd_pb2 as pb

    return pb.MemberSpec(member_id=s.member_id)


ETCD_MEMBER = declare(ResourceType(
    "EtcdMembers.etcd.talos.dev", "etcd", EtcdMemberSpec,
    print_columns=(PrintColumn("Member ID", "{.memberID}"),),
    proto=ProtoSpec(f"{_PB}:MemberSpec", _etcd_member_proto)))


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

def _etcd_config_proto(s: EtcdConfigSpec) -> Message:
    from talos.api.resource.definitions.etcd import etcd_pb2 as pb

    return pb.ConfigSpec(
        advertise_valid_subnets=list(s.advertise_valid_subnets),
        advertise_exclude_subnets=list(s.advertise_exclude_subnets),
        image=s.image,
        extra_args={k: pb.ArgValues(values=list(v.values)) for k, v in s.extra_args.items()},
        listen_valid_subnets=list(s.listen_valid_subnets),
        listen_exclude_subnets=list(s.listen_exclude_subnets))


ETCD_CONFIG = declare(ResourceType(
    "EtcdConfigs.etcd.talos.dev", "etcd", EtcdConfigSpec,
    print_columns=(PrintColumn("Image", "{.image}"),),
    proto=ProtoSpec(f"{_PB}:ConfigSpec", _etcd_config_proto)))
