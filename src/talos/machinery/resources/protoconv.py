"""Value helpers shared by the resource types' proto converters (`ResourceType.proto`).

Follows upstream where the encoding is special: addresses are `common.NetIP` /
`common.NetIPPrefix` holding Go's `netip.Addr` binary form (4 bytes for IPv4, 16 for IPv6, no
zone); free-form documents (kubelet config, static pod) are `google.protobuf.Struct`; enums
are looked up by their Talos text names and a bad value names the field.

This module imports protobuf and generated code: the converters in
`talos.machinery.resources.<domain>` import it inside themselves, so declaring the types
stays free of protobuf.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2

from talos.api.common import common_pb2
from talos.api.resource.definitions.enums import enums_pb2
from talos.machinery import nethelpers
from talos.machinery.errors import InvalidArgument

#: our machine type strings -> `enums.MachineType` (and `resource.config.MachineType`:
#: same numbers, upstream machine.Type)
MACHINE_TYPES: Mapping[str, int] = {
    "unknown": enums_pb2.TYPE_UNKNOWN, "": enums_pb2.TYPE_UNKNOWN,
    "init": enums_pb2.TYPE_INIT, "controlplane": enums_pb2.TYPE_CONTROL_PLANE,
    "worker": enums_pb2.TYPE_WORKER,
}

#: our machine stage strings (normalised: lower case, no `_`/`-`) -> `RuntimeMachineStage`
MACHINE_STAGES: Mapping[str, int] = {
    "unknown": enums_pb2.MACHINE_STAGE_UNKNOWN,
    "booting": enums_pb2.MACHINE_STAGE_BOOTING,
    "installing": enums_pb2.MACHINE_STAGE_INSTALLING,
    "maintenance": enums_pb2.MACHINE_STAGE_MAINTENANCE,
    "running": enums_pb2.MACHINE_STAGE_RUNNING,
    "rebooting": enums_pb2.MACHINE_STAGE_REBOOTING,
    "shuttingdown": enums_pb2.MACHINE_STAGE_SHUTTING_DOWN,
    "resetting": enums_pb2.MACHINE_STAGE_RESETTING,
    "upgrading": enums_pb2.MACHINE_STAGE_UPGRADING,
}


def net_ip(value: str, where: str) -> common_pb2.NetIP:
    try:
        ip = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        raise InvalidArgument(f"{where}: expected an IP address, got {value!r}") from None
    return common_pb2.NetIP(ip=ip.packed)


def net_ip_prefix(value: str, where: str) -> common_pb2.NetIPPrefix:
    addr, sep, bits = value.partition("/")
    try:
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
        length = int(bits) if sep else ip.max_prefixlen
        if not 0 <= length <= ip.max_prefixlen:
            raise ValueError(value)
    except ValueError:
        raise InvalidArgument(
            f"{where}: expected an IP prefix like 10.5.0.2/24, got {value!r}") from None
    return common_pb2.NetIPPrefix(ip=ip.packed, prefix_length=length)


def opt_ip(value: str, where: str) -> common_pb2.NetIP | None:
    """An address field Go leaves as a zero `netip.Addr` when absent (unset on the wire)."""
    return net_ip(value, where) if value else None


def opt_prefix(value: str, where: str) -> common_pb2.NetIPPrefix | None:
    return net_ip_prefix(value, where) if value else None


def hardware_addr(value: str, where: str) -> bytes:
    try:
        return bytes.fromhex(value.replace(":", ""))
    except ValueError:
        raise InvalidArgument(
            f"{where}: expected a hardware address like 02:00:00:00:00:01, got {value!r}"
        ) from None


def _json(value: Any) -> Any:
    """Plain JSON-like data for `Struct.update` (tuples to lists, other scalars to text)."""
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def struct(value: Mapping[str, Any] | None) -> struct_pb2.Struct | None:
    """A Struct, or None (field left unset) for an empty document, as Go leaves a nil map."""
    if not value:
        return None
    s = struct_pb2.Struct()
    s.update(_json(value))
    return s


def enum(table: Mapping[str, int], value: str, where: str) -> Any:
    """A normalised name (case, `_` and `-` ignored) -> its number (typed Any: the generated
    enum types are ints)."""
    key = value.replace("_", "").replace("-", "").lower()
    try:
        return table[key]
    except KeyError:
        raise InvalidArgument(
            f"{where}: expected one of {', '.join(sorted(table))}, got {value!r}") from None


def number(table: Mapping[int, str], text: str, where: str) -> Any:
    """A Talos enum name -> its number (`talos.machinery.nethelpers` tables)."""
    return nethelpers.number(table, text, where)


def named(names: tuple[str, ...], value: str, where: str) -> Any:
    """A name -> its position in `names` (enums whose numbers are their order)."""
    return number(dict(enumerate(names)), value, where)


def flags(bits: tuple[str, ...], text: str, where: str, shift: int = 0) -> int:
    """Comma-separated flag names -> the bit mask (`talos.machinery.nethelpers` tables)."""
    return nethelpers.flags_value(bits, text, where, shift)
