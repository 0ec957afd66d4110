"""ConfigDerivedController: one resource derived from the running MachineConfig by a pure
function of its v1alpha1 document.

The function returns the spec to publish, or None when the resource must not exist (a worker
has no EtcdConfig, a node without a config has no kubelet resources): the resource is then
destroyed if it exists. Every controller of this shape is a subclass naming its output, its
resource id and its function (`derive = staticmethod(...)`); the reconcile loop lives here
once.
"""

from __future__ import annotations

from typing import Any, ClassVar

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.cosi.resource import Pointer
from talos.machined.controllers.config_tree import v1alpha1
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.definition import ResourceType


class ConfigDerivedController:
    name: str
    output: ClassVar[ResourceType]
    resource_id: ClassVar[str]
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID),)

    @staticmethod
    def derive(tree: dict[str, Any]) -> Any:
        """The spec for this v1alpha1 document, or None: the resource must not exist."""
        raise NotImplementedError

    def __init__(self) -> None:
        self.outputs: tuple[Output, ...] = (Output.of(self.output),)

    async def run(self, r: ControllerContext) -> None:
        ns, rtype = self.output.default_namespace, self.output.type
        async for _ in r.wake_ups():
            cfg = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
            spec = self.derive(v1alpha1(cfg))
            if spec is not None:
                await r.put(ns, rtype, self.resource_id, spec)
            elif await r.get(ns, rtype, self.resource_id) is not None:
                await r.destroy(Pointer(ns, rtype, self.resource_id))
