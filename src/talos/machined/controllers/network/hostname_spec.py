"""network.HostnameMergeController: the hostname the node should have (`HostnameSpecs`).

From `machine.network.hostname` (layer `configuration`, split at the first dot into
hostname and domainname) or, without one, the name the node already has (layer `default`).
Id `hostname`, as upstream's merged spec; `HostnameStatus` is what the node has.
"""

from __future__ import annotations

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.config_tree import at, v1alpha1
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import HOSTNAME_SPEC, HostnameSpecSpec

ID = "hostname"


class HostnameSpecController:
    name = "network.HostnameMergeController"
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID),)
    outputs: tuple[Output, ...] = (Output.of(HOSTNAME_SPEC),)

    def __init__(self, default: str) -> None:
        self.default = default

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            cfg = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
            configured = str(at(v1alpha1(cfg), "machine.network.hostname") or "")
            host, _, domain = (configured or self.default).partition(".")
            await r.put(HOSTNAME_SPEC.default_namespace, HOSTNAME_SPEC.type, ID,
                        HostnameSpecSpec(hostname=host, domainname=domain,
                                         config_layer="configuration" if configured
                                         else "default"))
