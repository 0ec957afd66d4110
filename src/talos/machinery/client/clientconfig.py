"""GenerateClientConfiguration's work: a client certificate with the requested roles and
lifetime from the OS CA, and a ready-to-use talosconfig around it.

machined serves the RPC (it holds the OS CA key from the machine config); apid allows it to
`os:admin` only. Unknown roles and non-positive lifetimes are InvalidArgument, as in Talos.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from talos.machinery import role
from talos.machinery.client.talosconfig import Context, Talosconfig
from talos.machinery.errors import InvalidArgument
from talos.machinery.pki import CertificateAuthority, IssueOptions


@dataclass(frozen=True)
class ClientConfiguration:
    ca: bytes
    crt: bytes
    key: bytes
    talosconfig: bytes


def check_roles(roles: Sequence[str]) -> tuple[str, ...]:
    """The requested roles (at least one, all known), in order, without repeats."""
    return role.check(roles, required=True)


def generate_client_configuration(
        os_ca: CertificateAuthority, roles: Sequence[str], ttl: dt.timedelta, *,
        context_name: str, endpoints: Sequence[str] = (),
        now: dt.datetime | None = None) -> ClientConfiguration:
    checked = check_roles(roles)
    if ttl <= dt.timedelta(0):
        raise InvalidArgument(f"crt_ttl: must be positive, got {ttl}")
    if not context_name:
        raise InvalidArgument("context name: must not be empty")
    pair = os_ca.issue_key_pair(
        IssueOptions(organizations=checked, ttl=ttl, client=True, server=False), now=now)
    ca_pem = os_ca.to_pem().crt
    ctx = Context.from_pems(endpoints=tuple(endpoints), ca=ca_pem, client=pair)
    config = Talosconfig(context=context_name, contexts={context_name: ctx})
    return ClientConfiguration(ca_pem, pair.crt, pair.key, config.to_yaml().encode())
