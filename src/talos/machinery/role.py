"""Talos roles: the one list of them, and how a list of role names is read.

A role is a plain string, carried in a client certificate's Subject Organization, in the
`talos-role` metadata apid forwards, in `--roles` flags and in the config's
`kubernetesTalosAPIAccess.allowedRoles`. Names and order follow upstream
pkg/machinery/role (siderolabs/talos v1.11+: `role.All`).

Every component takes its roles from here: apid's authorization, GenerateClientConfiguration,
`talosctl config new`, `talosctl gen csr` and config validation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from talos.machinery.errors import InvalidArgument

#: prefix of every built-in role
PREFIX: Final = "os:"

#: every API
ADMIN: Final = "os:admin"
#: reader plus management APIs that give no secret access (reboot, service restart, ...)
OPERATOR: Final = "os:operator"
#: read-only APIs that expose no secrets
READER: Final = "os:reader"
#: etcd snapshots
ETCD_BACKUP: Final = "os:etcd:backup"
#: image verification
IMAGE_VERIFIER: Final = "os:image:verifier"
#: META writes and deletes
META_WRITER: Final = "os:meta:writer"
#: lets another apid carry the caller's roles (used between nodes; may be granted to users)
IMPERSONATOR: Final = "os:impersonator"

#: every role that can be granted, in upstream's order (role.All)
ALL: Final = (ADMIN, OPERATOR, READER, ETCD_BACKUP, IMAGE_VERIFIER, META_WRITER, IMPERSONATOR)
_KNOWN: Final = frozenset(ALL)


def is_known(name: str) -> bool:
    return name in _KNOWN


def parse(values: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(every role named in `values`, the unknown ones among them, in order), as upstream
    role.Parse: names are stripped, empty names skipped (old certificates carry one empty
    organization), unknown names kept in the set, where they grant nothing."""
    names = [v.strip() for v in values if v.strip()]
    unknown = tuple(dict.fromkeys(n for n in names if n not in _KNOWN))
    return frozenset(names), unknown


def known(values: Iterable[str]) -> frozenset[str]:
    """The known roles among `values` (unknown names are dropped: they grant nothing)."""
    roles, _ = parse(values)
    return roles & _KNOWN


def valid_roles_hint() -> str:
    return "valid roles: " + ", ".join(ALL)


def check(values: Iterable[str], *, required: bool = False) -> tuple[str, ...]:
    """The roles named in `values`, in order and deduplicated; InvalidArgument naming every
    unknown one (and the valid ones) otherwise, or when `required` and none is named."""
    names = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    _, unknown = parse(names)
    if unknown:
        raise InvalidArgument(f"unknown roles: {', '.join(unknown)} ({valid_roles_hint()})")
    if required and not names:
        raise InvalidArgument(f"at least one role is required ({valid_roles_hint()})")
    return names
