"""Golden wire fixtures for package ``storage`` (StorageService).

Transcribed by hand from upstream siderolabs/talos ``api/storage/storage.proto`` as published
in the Talos v1.13 API reference (website/content/v1.13/reference/api.md, commit c32c07a9) and
its generated descriptors (field numbers: readonly=13, drop_partition=4,
skip_secondary_check=5 — declared out of number order upstream). Independent of our proto/.
"""

from __future__ import annotations

from filecheck import package_tests
from golden import COMMON, Schema

import talos.api.storage.storage_pb2 as storage_pb2

SCHEMA = Schema(
    messages={
        "storage.Disk": [
            (1, "uint64", "size"),
            (2, "string", "model"),
            (3, "string", "device_name"),
            (4, "string", "name"),
            (5, "string", "serial"),
            (6, "string", "modalias"),
            (7, "string", "uuid"),
            (8, "string", "wwid"),
            (9, "enum:storage.Disk.DiskType", "type"),
            (10, "string", "bus_path"),
            (11, "bool", "system_disk"),
            (12, "string", "subsystem"),
            (13, "bool", "readonly"),
        ],
        "storage.Disks": [(1, "msg:common.Metadata", "metadata"),
                          (2, "repeated msg:storage.Disk", "disks")],
        "storage.DisksResponse": [(1, "repeated msg:storage.Disks", "messages")],
        "storage.BlockDeviceWipeRequest": [
            (1, "repeated msg:storage.BlockDeviceWipeDescriptor", "devices")],
        "storage.BlockDeviceWipeDescriptor": [
            (1, "string", "device"),
            (2, "enum:storage.BlockDeviceWipeDescriptor.Method", "method"),
            (3, "bool", "skip_volume_check"),
            (4, "bool", "drop_partition"),
            (5, "bool", "skip_secondary_check"),
        ],
        "storage.BlockDeviceWipeResponse": [
            (1, "repeated msg:storage.BlockDeviceWipe", "messages")],
        "storage.BlockDeviceWipe": [(1, "msg:common.Metadata", "metadata")],
    },
    enums={
        "storage.Disk.DiskType": {"UNKNOWN": 0, "SSD": 1, "HDD": 2, "NVME": 3, "SD": 4, "CD": 5},
        "storage.BlockDeviceWipeDescriptor.Method": {"FAST": 0, "ZEROES": 1},
    },
    services={
        "storage.StorageService": {
            "Disks": ("google.protobuf.Empty", "storage.DisksResponse", False, False),
            "BlockDeviceWipe": ("storage.BlockDeviceWipeRequest",
                                "storage.BlockDeviceWipeResponse", False, False),
        },
    },
).merge(COMMON)

globals().update(package_tests(SCHEMA, storage_pb2.DESCRIPTOR))
