"""v1alpha1.ServiceController: one `Services.v1alpha1.talos.dev` resource per registered
service (running, healthy, health unknown), as `talosctl get services` shows them.

It reads the supervisor (woken by every service event) rather than resources, as upstream's
controller follows the runtime's service events.
"""

from __future__ import annotations

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.system.service import ServiceState
from talos.machined.system.supervisor import Supervisor
from talos.machinery.resources.v1alpha1 import SERVICE, ServiceSpec


class ServiceController:
    name = "v1alpha1.ServiceController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(SERVICE),)

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor

    async def run(self, r: ControllerContext) -> None:
        unsubscribe = self.supervisor.subscribe(lambda *_: r.wake())
        try:
            async for _ in r.wake_ups():
                r.start_tracking_outputs()
                for runner in self.supervisor.services():
                    health = runner.health
                    await r.put(SERVICE.default_namespace, SERVICE.type, runner.id,
                                ServiceSpec(running=runner.state is ServiceState.RUNNING,
                                            healthy=health.healthy, unknown=health.unknown))
                await r.cleanup_outputs()
        finally:
            unsubscribe()
