"""v1alpha1.ServiceLifecycleController: the supervisor side of config changes. A supervised
service whose `ServiceConfigs` resource no longer matches the inputs it runs with is rebuilt
from the running config and restarted, started or stopped:

- running (or about to) → stopped, then started with the new spec ("restarted");
- the new spec says it cannot run here → stopped and reported Skipped with the reason;
- skipped before and after → only the spec changes (nothing runs, nothing reported);
- a service the new config turns on → started.

Services no resource covers, or not registered here (trustd on a worker), are left alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.config import NodeConfig
from talos.machined.controllers.v1alpha1.service_config import (
    SERVICE_CONFIG,
    SERVICE_PATHS,
    Paths,
    stamped,
)
from talos.machined.system.service import ServiceSpec
from talos.machined.system.supervisor import Supervisor
from talos.machinery.errors import NotFound
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG

log = logging.getLogger(__name__)

#: builds a service's spec from a config
Builder = Callable[[NodeConfig | None], ServiceSpec]


def changed(old: tuple[tuple[str, str], ...], new: tuple[tuple[str, str], ...]) -> list[str]:
    before = dict(old)
    return [p for p, d in new if before.get(p) != d]


async def apply_spec(supervisor: Supervisor, service_id: str, spec: ServiceSpec) -> str:
    """Bring the service in line with `spec`; returns what was done ("" nothing to say)."""
    runner = supervisor.get(service_id)
    was_active = runner.active and not runner.spec.skip_reason
    if spec.skip_reason and runner.spec.skip_reason:
        runner.spec = spec  # still skipped: nothing runs, nothing to report
        return ""
    await runner.stop()
    runner.spec = spec
    if spec.skip_reason:
        supervisor.start(service_id)  # records Skipped with the new reason
        return "stopped" if was_active else "skipped"
    if was_active or spec.autostart:
        supervisor.start(service_id)
        return "restarted" if was_active else "started"
    return "reconfigured"


class ServiceLifecycleController:
    name = "v1alpha1.ServiceLifecycleController"
    inputs: tuple[Input, ...] = (Input.of(SERVICE_CONFIG),
                                 Input.of(MACHINE_CONFIG, id=ACTIVE_ID))
    outputs: tuple[Output, ...] = ()

    def __init__(self, supervisor: Supervisor, builders: Mapping[str, Builder],
                 parse: Callable[[bytes], NodeConfig], paths: Paths = SERVICE_PATHS) -> None:
        self.supervisor = supervisor
        self.builders = builders
        self.parse = parse
        self.paths = paths

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            res = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
            cfg: NodeConfig | None = None
            for sc in await r.list(SERVICE_CONFIG.default_namespace, SERVICE_CONFIG.type):
                build = self.builders.get(sc.id)
                if build is None:
                    continue
                try:
                    runner = self.supervisor.get(sc.id)
                except NotFound:
                    continue
                if runner.spec.config_inputs == sc.spec.inputs:
                    continue
                if cfg is None:
                    if res is None:
                        break
                    # the text is the running config's: it parses (off the event loop)
                    cfg = await asyncio.to_thread(self.parse, res.spec.text.encode())
                spec = stamped(build(cfg), cfg, self.paths)
                if spec.config_inputs != sc.spec.inputs:
                    break  # the resource is behind the config: the next pass has both
                fields = changed(runner.spec.config_inputs, spec.config_inputs)
                what = await apply_spec(self.supervisor, sc.id, spec)
                if what:
                    log.info("config change: service %s: %s (%s changed)", sc.id, what,
                             ", ".join(fields))
