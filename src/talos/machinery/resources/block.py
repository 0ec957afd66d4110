"""Block resources: disks, what probing found on them, and the node's volumes.

Names, print columns and YAML field names follow siderolabs/talos v1.13.9
(`pkg/machinery/resources/block`). Upstream keeps these types in the `runtime` namespace
(`block.NamespaceName = v1alpha1.NamespaceName`), and so do we. Disk and discovered volume
fields use snake_case YAML names, volume status fields lowerCamelCase, as upstream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from talos.machinery.resources.definition import PrintColumn, ResourceType, declare

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


DISK = declare(ResourceType(
    "Disks.block.talos.dev", NAMESPACE, DiskSpec,
    print_columns=(PrintColumn("Size", "{.pretty_size}"),
                   PrintColumn("Read Only", "{.readonly}"),
                   PrintColumn("Transport", "{.transport}"),
                   PrintColumn("Rotational", "{.rotational}"),
                   PrintColumn("WWID", "{.wwid}"), PrintColumn("Model", "{.model}"),
                   PrintColumn("Serial", "{.serial}"))))


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


DISCOVERED_VOLUME = declare(ResourceType(
    "DiscoveredVolumes.block.talos.dev", NAMESPACE, DiscoveredVolumeSpec,
    print_columns=(PrintColumn("Type", "{.type}"), PrintColumn("Size", "{.pretty_size}"),
                   PrintColumn("Discovered", "{.name}"), PrintColumn("Label", "{.label}"),
                   PrintColumn("PartitionLabel", "{.partition_label}"))))


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


VOLUME_STATUS = declare(ResourceType(
    "VolumeStatuses.block.talos.dev", NAMESPACE, VolumeStatusSpec,
    print_columns=(PrintColumn("Type", "{.type}"), PrintColumn("Phase", "{.phase}"),
                   PrintColumn("Location", "{.location}"),
                   PrintColumn("Size", "{.prettySize}"))))

#: phase, volume type, filesystem and encryption provider names -> upstream enum numbers
VOLUME_PHASES = ("waiting", "failed", "missing", "located", "provisioned", "prepared",
                 "ready", "closed")
VOLUME_TYPES = ("partition", "disk", "tmpfs", "directory", "symlink", "overlay", "external")
FILESYSTEMS = ("none", "xfs", "vfat", "ext4", "iso9660", "swap", "virtiofs")
ENCRYPTION_PROVIDERS = ("none", "luks2")
