"""The `network` namespace (the subset declared so far)."""

from __future__ import annotations

from dataclasses import dataclass

from talos.machinery.resources.definition import PrintColumn, ResourceType, declare


@dataclass(frozen=True)
class HostnameStatusSpec:
    hostname: str = ""
    domainname: str = ""


HOSTNAME_STATUS = declare(ResourceType(
    "HostnameStatuses.net.talos.dev", "network", HostnameStatusSpec,
    print_columns=(PrintColumn("Hostname", "{.hostname}"),
                   PrintColumn("Domainname", "{.domainname}"))))
