"""network.HostnameStatusController: the node's hostname from the machine config.

`machine.network.hostname` (split at the first dot into hostname and domainname) or, with no
config or no hostname in it, the name the node already has. In a sandbox the kernel hostname
(UTS namespace) follows it; in plain mode the host's name is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.config_tree import at, v1alpha1
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import HOSTNAME_STATUS, HostnameStatusSpec

ID = "hostname"


class HostnameStatusController:
    name = "network.HostnameStatusController"
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID),)
    outputs: tuple[Output, ...] = (Output.of(HOSTNAME_STATUS),)

    def __init__(self, default: str, set_hostname: Callable[[str], Any] | None = None) -> None:
        self.default = default
        self.set_hostname = set_hostname

    async def run(self, r: ControllerContext) -> None:
        applied = ""
        async for _ in r.wake_ups():
            cfg = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
            fqdn = str(at(v1alpha1(cfg), "machine.network.hostname") or "") or self.default
            host, _, domain = fqdn.partition(".")
            await r.put(HOSTNAME_STATUS.default_namespace, HOSTNAME_STATUS.type, ID,
                        HostnameStatusSpec(hostname=host, domainname=domain))
            if self.set_hostname is not None and fqdn != applied:
                self.set_hostname(host)
                applied = fqdn
