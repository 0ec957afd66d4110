"""k8s.NodeIPConfigController: `NodeIPConfigs.kubernetes.talos.dev/kubelet`, the subnets the
kubelet may take its node IP from: `machine.kubelet.nodeIP.validSubnets` (`!` entries are
exclusions), by default any address; the cluster's pod and service subnets are always
excluded, as in Talos."""

from __future__ import annotations

from typing import Any

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.cosi.resource import Pointer
from talos.machined.controllers.config_tree import at, v1alpha1
from talos.machined.controllers.k8s import defaults
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
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


class NodeIPConfigController:
    name = "k8s.NodeIPConfigController"
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID),)
    outputs: tuple[Output, ...] = (Output.of(NODE_IP_CONFIG),)

    async def run(self, r: ControllerContext) -> None:
        ns, rtype = NODE_IP_CONFIG.default_namespace, NODE_IP_CONFIG.type
        async for _ in r.wake_ups():
            cfg = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
            spec = node_ip_config_spec(v1alpha1(cfg))
            if spec is not None:
                await r.put(ns, rtype, KUBELET_ID, spec)
            elif await r.get(ns, rtype, KUBELET_ID) is not None:
                await r.destroy(Pointer(ns, rtype, KUBELET_ID))
