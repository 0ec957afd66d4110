"""What the node's network should be, from the machine config and the kernel command line:
the addresses, routes and links of upstream's Address/Route/LinkConfigControllers
(siderolabs/talos v1.13.9, `internal/app/machined/pkg/controllers/network`).

- `ip=<client>::<gateway>:<netmask>:<hostname>:<device>` on the kernel command line: layer
  `cmdline` (an address, a default route, the link up);
- `machine.network.interfaces[]`, each naming its link by `interface` or by a
  `deviceSelector` (`hardwareAddr`, `permanentAddr`, `driver`, `physical`; glob patterns as
  upstream's): layer `configuration` (`addresses`, `routes` with `network`, `gateway`,
  `source`, `metric`, `mtu`; the interface's `mtu`; the link up unless `ignore`);
- every physical link is brought up in layer `default`, as upstream does.

Pure functions of their inputs; the controllers in `config_controllers` publish them.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from talos.machined.platform.cmdline import parse_ip_arg
from talos.machinery.resources.network import (
    AddressSpecSpec,
    LinkSpecSpec,
    LinkStatusSpec,
    RouteSpecSpec,
)

#: upstream's DefaultRouteMetric: a route without `metric` gets this priority
DEFAULT_ROUTE_METRIC = 1024


def physical(link: LinkStatusSpec) -> bool:
    """A link of a real (or virtual) device: an Ethernet link with no kind (not a bridge,
    VLAN, veth ...) and not the loopback."""
    return link.type == "ether" and not link.kind


def first_physical(links: Mapping[str, LinkStatusSpec]) -> str | None:
    found = sorted((s.index, name) for name, s in links.items() if physical(s))
    return found[0][1] if found else None


def _matches(selector: Mapping[str, Any], link: LinkStatusSpec) -> bool:
    """Upstream's deviceSelector: every given field must match (globs for text fields)."""
    checks = {"hardwareAddr": link.hardware_addr, "permanentAddr": link.permanent_addr,
              "driver": link.driver}
    for key, have in checks.items():
        want = selector.get(key)
        if want is not None and not fnmatch.fnmatchcase(have.lower(), str(want).lower()):
            return False
    if "physical" in selector and bool(selector["physical"]) != physical(link):
        return False
    # busPath and pciID are not read from sysfs yet: a selector naming them matches nothing
    return not any(k in selector for k in ("busPath", "pciID"))


def interface_links(device: Mapping[str, Any], links: Mapping[str, LinkStatusSpec]
                    ) -> list[str]:
    """The links one `machine.network.interfaces[]` entry configures (by name, or every link
    its deviceSelector matches, in index order)."""
    name = device.get("interface")
    if name:
        return [str(name)]
    selector = device.get("deviceSelector")
    if not isinstance(selector, Mapping):
        return []
    found = sorted((s.index, n) for n, s in links.items() if _matches(selector, s))
    return [n for _, n in found]


def interfaces(tree: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    machine = tree.get("machine") if isinstance(tree, Mapping) else None
    network = machine.get("network") if isinstance(machine, Mapping) else None
    found = network.get("interfaces") if isinstance(network, Mapping) else None
    return [d for d in found if isinstance(d, Mapping)] if isinstance(found, list) else []


def _family(address: str) -> str:
    return "inet6" if ":" in address else "inet4"


def _address(link: str, prefix: str, layer: str) -> tuple[str, AddressSpecSpec]:
    iface = ipaddress.ip_interface(prefix)
    text = f"{iface.ip}/{iface.network.prefixlen}"
    return f"{layer}/{link}/{text}", AddressSpecSpec(
        address=text, link_name=link, family=_family(text), config_layer=layer)


def route_id(spec: RouteSpecSpec) -> str:
    """Upstream's RouteID: `[table/][link/]family/gateway/destination/metric` (the link only
    for inet6)."""
    prefix = "" if spec.table == "main" else f"{spec.table}/"
    if spec.family == "inet6":
        prefix += f"{spec.out_link_name}/"
    return f"{prefix}{spec.family}/{spec.gateway}/{spec.destination}/{spec.priority}"


def route(link: str, layer: str, *, gateway: str = "", destination: str = "",
          source: str = "", metric: int = 0, mtu: int = 0,
          protocol: str = "static") -> tuple[str, RouteSpecSpec]:
    family = _family(gateway or destination or "0.0.0.0")
    if destination:
        net = ipaddress.ip_network(destination, strict=False)
        destination = "" if net.prefixlen == 0 else str(net)
    spec = RouteSpecSpec(
        family=family, destination=destination, source=source, gateway=gateway,
        out_link_name=link, priority=metric or DEFAULT_ROUTE_METRIC,
        scope="global" if gateway else "link", protocol=protocol, config_layer=layer,
        mtu=mtu)
    return f"{layer}/{route_id(spec)}", spec


@dataclass(frozen=True)
class Desired:
    """Layered ids (`<layer>/<id>`) to specs."""

    addresses: dict[str, AddressSpecSpec]
    routes: dict[str, RouteSpecSpec]
    links: dict[str, LinkSpecSpec]


def desired(tree: Mapping[str, Any], cmdline: str,
            links: Mapping[str, LinkStatusSpec]) -> Desired:
    """Everything the config and the command line ask of the node's network. An entry
    that cannot be read (a bad CIDR) is left out: validation rejects such configs first."""
    out = Desired({}, {}, {})
    for name, status in links.items():
        if physical(status):
            out.links[f"default/{name}"] = LinkSpecSpec(name=name, config_layer="default")
    arg = parse_ip_arg(cmdline)
    if arg is not None:
        link = arg.device or first_physical(links)
        if link is not None:
            key, spec = _address(link, f"{arg.address}/{arg.prefixlen}", "cmdline")
            out.addresses[key] = spec
            out.links[f"cmdline/{link}"] = LinkSpecSpec(name=link, config_layer="cmdline")
            if arg.gateway:
                key, r = route(link, "cmdline", gateway=arg.gateway)
                out.routes[key] = r
    for device in interfaces(tree):
        if device.get("ignore"):
            continue
        for link in interface_links(device, links):
            _configure(out, link, device)
    return out


def _configure(out: Desired, link: str, device: Mapping[str, Any]) -> None:
    layer = "configuration"
    try:
        mtu = int(device.get("mtu") or 0)
    except (TypeError, ValueError):
        mtu = 0
    out.links[f"{layer}/{link}"] = LinkSpecSpec(name=link, mtu=mtu, config_layer=layer)
    for cidr in device.get("addresses") or ():
        try:
            key, spec = _address(link, str(cidr), layer)
        except ValueError:
            continue
        out.addresses[key] = spec
    for r in device.get("routes") or ():
        if not isinstance(r, Mapping):
            continue
        try:
            rkey, rspec = route(link, layer, gateway=str(r.get("gateway") or ""),
                              destination=str(r.get("network") or ""),
                              source=str(r.get("source") or ""),
                              metric=int(r.get("metric") or 0), mtu=int(r.get("mtu") or 0))
        except (TypeError, ValueError):
            continue
        out.routes[rkey] = rspec


def dhcp_links(tree: Mapping[str, Any], cmdline: str,
               links: Mapping[str, LinkStatusSpec]) -> list[str]:
    """The links to run DHCPv4 on: those of interfaces with `dhcp: true`; with no interface
    configured and no static `ip=`, the first physical link (what a booted machine does
    before it has a config)."""
    configured = [d for d in interfaces(tree) if not d.get("ignore")]
    if not configured:
        if parse_ip_arg(cmdline) is not None:
            return []
        first = first_physical(links)
        return [first] if first else []
    out: list[str] = []
    for device in configured:
        if device.get("dhcp"):
            out += [n for n in interface_links(device, links) if n not in out]
    return out
