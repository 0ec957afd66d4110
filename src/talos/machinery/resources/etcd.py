"""The `etcd` namespace: this node's etcd membership (`talosctl get etcdmembers`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from talos.machinery.resources.definition import PrintColumn, ResourceType, declare

LOCAL_MEMBER_ID = "local"


@dataclass(frozen=True)
class EtcdMemberSpec:
    """The local etcd member: its ID (hex, as etcdctl prints it) once it has joined."""

    member_id: str = field(default="", metadata={"yaml": "memberID"})


ETCD_MEMBER = declare(ResourceType(
    "EtcdMembers.etcd.talos.dev", "etcd", EtcdMemberSpec,
    print_columns=(PrintColumn("Member ID", "{.memberID}"),)))
