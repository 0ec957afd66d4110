"""k8s.NodeIPConfigController: `NodeIPConfigs.kubernetes.talos.dev/kubelet`, the subnets the
kubelet may take its node IP from: `machine.kubelet.nodeIP.validSubnets` (`!` entries are
exclusions), by default any address; the cluster's pod and service subnets are always
excluded, as in Talos."""

from __future__ import annotations

from typing import Any

from talos.machined.controllers.config.derived import ConfigDerivedController
from talos.machined.controllers.config_tree import at
from talos.machined.controllers.k8s import defaults
from talos.machinery.resources.k8s import KUBELET_ID, NODE_IP_CONFIG, NodeIPConfigSpec

ANY = ("0.0.0.0/0", "::/0")


def node_ip_config_spec(tree: dict[str, Any]) -> NodeIPConfigSpec | None:
    if not isinstance(tree.get("machine"), dict):
        return None
    valid: list[str] = []
    exclude: list[str] = []
    for f in at(tree, "machine.kubelet.nodeIP.validSubnets") or ():
        text = str(f).strip()
        (exclude if text.startswith("!") else valid).append(text.lstrip("!"))
    for subnet in (*defaults.pod_subnets(tree), *defaults.service_subnets(tree)):
        if subnet not in exclude:
            exclude.append(subnet)
    return NodeIPConfigSpec(valid_subnets=tuple(valid) or ANY, exclude_subnets=tuple(exclude))


class NodeIPConfigController(ConfigDerivedController):
    name = "k8s.NodeIPConfigController"
    output = NODE_IP_CONFIG
    resource_id = KUBELET_ID
    derive = staticmethod(node_ip_config_spec)
