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


@dataclass(frozen=True)
class TimeServerStatusSpec:
    """The NTP servers the node uses (`talosctl get timeservers`)."""

    time_servers: tuple[str, ...] = ()


TIME_SERVER_STATUS = declare(ResourceType(
    "TimeServerStatuses.net.talos.dev", "network", TimeServerStatusSpec,
    aliases=("timeserver", "timeservers"),
    print_columns=(PrintColumn("Timeservers", "{.timeServers}"),)))


@dataclass(frozen=True)
class NodeAddressSpec:
    """The node's addresses as prefixes (ids `default`, `current`, `routed`,
    `accumulative`)."""

    addresses: tuple[str, ...] = ()


NODE_ADDRESS = declare(ResourceType(
    "NodeAddresses.net.talos.dev", "network", NodeAddressSpec,
    print_columns=(PrintColumn("Addresses", "{.addresses}"),)))
