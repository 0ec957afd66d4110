"""Block resources: disks, what probing found on them, and the node's volumes.

Names, print columns and YAML field names follow siderolabs/talos v1.13.9
(`pkg/machinery/resources/block`). Upstream keeps these types in the `runtime` namespace
(`block.NamespaceName = v1alpha1.NamespaceName`), and so do we. Disk and discovered volume
fields use snake_case YAML names, volume status fields lowerCamelCase, as upstream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from talos.machinery.resources.definition import PrintColumn, ProtoSpec, ResourceType, declare

if TYPE_CHECKING:
    from google.protobuf.message import Message

#: the generated module of upstream's spec messages (imported by the converters)
_PB = "talos.api.resource.definitions.block.block_pb2"

NAMESPACE = "runtime"


def _y(name: str, omitempty: bool = False) -> dict[str, Any]:
    return {"yaml": name, **({"omitempty": True} if omitempty else {})}


def _omit() -> dict[str, Any]:
    return {"omitempty": True}


def pretty_size(size: int) -> str:
    """A size in SI units as upstream prints it (go-humanize `Bytes`: `275 GB`, `1.2 MB`)."""
    if size < 10:
        return f"{size} B"
    units = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
    exp = min(math.floor(math.log(size) / math.log(1000)), len(units) - 1)
    value = math.floor(size / 1000 ** exp * 10 + 0.5) / 10
    return f"{value:.0f} {units[exp]}" if value >= 10 else f"{value:.1f} {units[exp]}"


@dataclass(frozen=True)
class DiskSpec:
    """A disk the kernel has (id: its kernel name, `vda`)."""

    dev_path: str = field(default="", metadata=_y("dev_path"))
    size: int = 0
    pretty_size: str = field(default="", metadata=_y("pretty_size"))
    io_size: int = field(default=0, metadata=_y("io_size"))
    sector_size: int = field(default=0, metadata=_y("sector_size"))
    readonly: bool = False
    cdrom: bool = False
    model: str = field(default="", metadata=_omit())
    serial: str = field(default="", metadata=_omit())
    modalias: str = field(default="", metadata=_omit())
    wwid: str = field(default="", metadata=_omit())
    uuid: str = field(default="", metadata=_omit())
    bus_path: str = field(default="", metadata=_y("bus_path", True))
    sub_system: str = field(default="", metadata=_y("sub_system", True))
    transport: str = field(default="", metadata=_omit())
    rotational: bool = field(default=False, metadata=_omit())
    secondary_disks: tuple[str, ...] = field(default=(), metadata=_y("secondary_disks", True))
    symlinks: tuple[str, ...] = field(default=(), metadata=_omit())


def _disk_proto(s: DiskSpec) -> Message:
    from talos.api.resource.definitions.block import block_pb2 as pb

    return pb.DiskSpec(
        size=s.size, io_size=s.io_size, sector_size=s.sector_size, readonly=s.readonly,
        model=s.model, serial=s.serial, modalias=s.modalias, wwid=s.wwid,
        bus_path=s.bus_path, sub_system=s.sub_system, transport=s.transport,
        rotational=s.rotational, cdrom=s.cdrom, dev_path=s.dev_path,
        pretty_size=s.pretty_size, secondary_disks=list(s.secondary_disks), uuid=s.uuid,
        symlinks=list(s.symlinks))


DISK = declare(ResourceType(
    "Disks.block.talos.dev", NAMESPACE, DiskSpec,
    print_columns=(PrintColumn("Size", "{.pretty_size}"),
                   PrintColumn("Read Only", "{.readonly}"),
                   PrintColumn("Transport", "{.transport}"),
                   PrintColumn("Rotational", "{.rotational}"),
                   PrintColumn("WWID", "{.wwid}"), PrintColumn("Model", "{.model}"),
                   PrintColumn("Serial", "{.serial}")),
    proto=ProtoSpec(f"{_PB}:DiskSpec", _disk_proto)))


@dataclass(frozen=True)
class DiscoveredVolumeSpec:
    """What probing found on a disk or partition (id: its kernel name, `vda1`).

    `type` is `disk` or `partition`; `name` the filesystem or partition table found
    (`ext4`, `gpt`, ...), empty when nothing was recognised.
    """

    dev_path: str = field(default="", metadata=_y("dev_path"))
    type: str = ""
    device_path: str = field(default="", metadata=_y("device_path"))
    parent: str = field(default="", metadata=_omit())
    parent_dev_path: str = field(default="", metadata=_y("parent_dev_path", True))
    offset: int = 0
    size: int = 0
    pretty_size: str = field(default="", metadata=_y("pretty_size"))
    sector_size: int = field(default=0, metadata=_y("sector_size", True))
    io_size: int = field(default=0, metadata=_y("io_size", True))
    name: str = ""
    uuid: str = field(default="", metadata=_omit())
    label: str = field(default="", metadata=_omit())
    block_size: int = field(default=0, metadata=_y("block_size", True))
    filesystem_block_size: int = field(default=0, metadata=_y("filesystem_block_size", True))
    probed_size: int = field(default=0, metadata=_y("probed_size", True))
    partition_uuid: str = field(default="", metadata=_y("partition_uuid", True))
    partition_type: str = field(default="", metadata=_y("partition_type", True))
    partition_label: str = field(default="", metadata=_y("partition_label", True))
    partition_index: int = field(default=0, metadata=_y("partition_index", True))


def _discovered_volume_proto(s: DiscoveredVolumeSpec) -> Message:
    from talos.api.resource.definitions.block import block_pb2 as pb

    return pb.DiscoveredVolumeSpec(
        size=s.size, sector_size=s.sector_size, io_size=s.io_size, name=s.name,
        uuid=s.uuid, label=s.label, block_size=s.block_size,
        filesystem_block_size=s.filesystem_block_size, probed_size=s.probed_size,
        partition_uuid=s.partition_uuid, partition_type=s.partition_type,
        partition_label=s.partition_label, partition_index=s.partition_index, type=s.type,
        device_path=s.device_path, parent=s.parent, dev_path=s.dev_path,
        parent_dev_path=s.parent_dev_path, pretty_size=s.pretty_size, offset=s.offset)


DISCOVERED_VOLUME = declare(ResourceType(
    "DiscoveredVolumes.block.talos.dev", NAMESPACE, DiscoveredVolumeSpec,
    print_columns=(PrintColumn("Type", "{.type}"), PrintColumn("Size", "{.pretty_size}"),
                   PrintColumn("Discovered", "{.name}"), PrintColumn("Label", "{.label}"),
                   PrintColumn("PartitionLabel", "{.partition_label}")),
    proto=ProtoSpec(f"{_PB}:DiscoveredVolumeSpec", _discovered_volume_proto)))


@dataclass(frozen=True)
class MountSpec:
    """Where a volume is mounted."""

    target_path: str = ""
    selinux_label: str = ""
    project_quota_support: bool = False
    parent_id: str = field(default="", metadata=_y("parentId", True))
    file_mode: int = field(default=0, metadata=_omit())
    uid: int = field(default=0, metadata=_omit())
    gid: int = field(default=0, metadata=_omit())


@dataclass(frozen=True)
class VolumeStatusSpec:
    """The state of one of the node's volumes (id: the volume, `STATE`, `EPHEMERAL`).

    `phase`: waiting, failed, missing, located, provisioned, prepared, ready, closed;
    `type`: partition, disk, tmpfs, directory, symlink, overlay, external. `filesystem` and
    `encryptionProvider` are empty for none (upstream leaves the zero value out).
    """

    phase: str = "waiting"
    pre_fail_phase: str = field(default="", metadata=_omit())
    type: str = "partition"
    parent_id: str = field(default="", metadata=_y("parentID", True))
    location: str = field(default="", metadata=_omit())
    mount_location: str = field(default="", metadata=_omit())
    partition_index: int = field(default=0, metadata=_omit())
    parent_location: str = field(default="", metadata=_omit())
    uuid: str = field(default="", metadata=_omit())
    partition_uuid: str = field(default="", metadata=_y("partitionUUID", True))
    size: int = field(default=0, metadata=_omit())
    pretty_size: str = field(default="", metadata=_omit())
    filesystem: str = field(default="", metadata=_omit())
    encryption_provider: str = field(default="", metadata=_omit())
    mount_spec: MountSpec | None = field(default=None, metadata=_omit())
    error_message: str = field(default="", metadata=_omit())


def _volume_status_proto(s: VolumeStatusSpec) -> Message:
    from talos.api.resource.definitions.block import block_pb2 as pb
    from talos.machinery.resources import protoconv as pc

    w = "VolumeStatus"
    mount = None if s.mount_spec is None else pb.MountSpec(
        target_path=s.mount_spec.target_path, selinux_label=s.mount_spec.selinux_label,
        project_quota_support=s.mount_spec.project_quota_support,
        parent_id=s.mount_spec.parent_id, file_mode=s.mount_spec.file_mode,
        uid=s.mount_spec.uid, gid=s.mount_spec.gid)
    return pb.VolumeStatusSpec(
        phase=pc.named(VOLUME_PHASES, s.phase, f"{w}.phase"),
        pre_fail_phase=pc.named(VOLUME_PHASES, s.pre_fail_phase, f"{w}.preFailPhase"),
        type=pc.named(VOLUME_TYPES, s.type, f"{w}.type"), parent_id=s.parent_id,
        location=s.location, mount_location=s.mount_location,
        partition_index=s.partition_index, parent_location=s.parent_location, uuid=s.uuid,
        partition_uuid=s.partition_uuid, size=s.size, pretty_size=s.pretty_size,
        filesystem=pc.named(FILESYSTEMS, s.filesystem, f"{w}.filesystem"),
        encryption_provider=pc.named(ENCRYPTION_PROVIDERS, s.encryption_provider,
                                     f"{w}.encryptionProvider"),
        mount_spec=mount, error_message=s.error_message)


VOLUME_STATUS = declare(ResourceType(
    "VolumeStatuses.block.talos.dev", NAMESPACE, VolumeStatusSpec,
    print_columns=(PrintColumn("Type", "{.type}"), PrintColumn("Phase", "{.phase}"),
                   PrintColumn("Location", "{.location}"),
                   PrintColumn("Size", "{.prettySize}")),
    proto=ProtoSpec(f"{_PB}:VolumeStatusSpec", _volume_status_proto)))

#: phase, volume type, filesystem and encryption provider names -> upstream enum numbers
VOLUME_PHASES = ("waiting", "failed", "missing", "located", "provisioned", "prepared",
                 "ready", "closed")
VOLUME_TYPES = ("partition", "disk", "tmpfs", "directory", "symlink", "overlay", "external")
FILESYSTEMS = ("none", "xfs", "vfat", "ext4", "iso9660", "swap", "virtiofs")
ENCRYPTION_PROVIDERS = ("none", "luks2")
