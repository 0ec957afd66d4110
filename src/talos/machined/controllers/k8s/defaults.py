"""Defaults of the Kubernetes settings a machine config may leave out (as Talos fills them)."""

from __future__ import annotations

import ipaddress
from typing import Any

from talos.machined.controllers.config_tree import at
from talos.machinery.config.generate import (
    APISERVER_IMAGE,
    CONTROLLER_MANAGER_IMAGE,
    DEFAULT_DNS_DOMAIN,
    DEFAULT_KUBERNETES_VERSION,
    DEFAULT_POD_SUBNETS,
    DEFAULT_SERVICE_SUBNETS,
    KUBELET_IMAGE,
    SCHEDULER_IMAGE,
)

IMAGES = {
    "kubelet": KUBELET_IMAGE,
    "apiServer": APISERVER_IMAGE,
    "controllerManager": CONTROLLER_MANAGER_IMAGE,
    "scheduler": SCHEDULER_IMAGE,
}


def image(tree: dict[str, Any], path: str, component: str) -> str:
    return str(at(tree, path) or "") or f"{IMAGES[component]}:v{DEFAULT_KUBERNETES_VERSION}"


def dns_domain(tree: dict[str, Any]) -> str:
    return str(at(tree, "cluster.network.dnsDomain") or "") or DEFAULT_DNS_DOMAIN


def service_subnets(tree: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(s) for s in at(tree, "cluster.network.serviceSubnets")
                 or DEFAULT_SERVICE_SUBNETS)


def pod_subnets(tree: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(s) for s in at(tree, "cluster.network.podSubnets") or DEFAULT_POD_SUBNETS)


def cluster_dns(tree: dict[str, Any]) -> tuple[str, ...]:
    """`machine.kubelet.clusterDNS`, else the 10th address of each service subnet (one per
    address family), as Talos computes the cluster DNS service IP."""
    explicit = at(tree, "machine.kubelet.clusterDNS")
    if explicit:
        return tuple(str(a) for a in explicit)
    out: list[str] = []
    families: set[int] = set()
    for subnet in service_subnets(tree):
        try:
            net = ipaddress.ip_network(subnet, strict=False)
        except ValueError:
            continue
        if net.version in families or net.num_addresses <= 10:
            continue
        families.add(net.version)
        out.append(str(net.network_address + 10))
    return tuple(out)


def str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
