"""Per-service config: when the running MachineConfig changes the fields a service is built
from, `v1alpha1.ServiceLifecycleController` restarts, stops or starts it (real processes
under a real supervisor; the config published as the MachineConfig resource, the service's
inputs derived by `v1alpha1.ServiceConfigController`)."""

from __future__ import annotations

import sys

from talos.cosi.testing import ControllerHarness
from talos.machined.config import NodeConfig, parse_config
from talos.machined.controllers.v1alpha1.service_config import (
    SERVICE_CONFIG,
    ServiceConfigController,
    stamped,
)
from talos.machined.controllers.v1alpha1.service_lifecycle import ServiceLifecycleController
from talos.machined.system.service import ProcessSpec, ServiceSpec, ServiceState
from talos.machined.system.supervisor import Supervisor
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG, MachineConfigSpec

PATHS = {"greeter": ("machine.network.hostname",)}


def cfg(hostname: str, labels: str = "a") -> NodeConfig:
    return parse_config(f"""version: v1alpha1
machine:
  type: worker
  nodeLabels:
    x: {labels}
  network:
    hostname: {hostname}
cluster:
  clusterName: c
""".encode())


def build(c: NodeConfig | None) -> ServiceSpec:
    assert c is not None
    if c.hostname == "off":
        return ServiceSpec(id="greeter", skip_reason="greeter is off on this node")
    code = f"import time; print('hello from {c.hostname}', flush=True); time.sleep(600)"
    return ServiceSpec(id="greeter", process=ProcessSpec(argv=(sys.executable, "-c", code)))


def controllers(sup: Supervisor) -> tuple[ServiceConfigController, ServiceLifecycleController]:
    return (ServiceConfigController(PATHS),
            ServiceLifecycleController(sup, {"greeter": build}, parse_config, PATHS))


async def running(h: ControllerHarness, c: NodeConfig) -> None:
    """Make `c` the running config and wait until the greeter's inputs follow it."""
    await h.put(MACHINE_CONFIG, ACTIVE_ID, MachineConfigSpec(c.raw.decode()))
    want = stamped(build(c), c, PATHS).config_inputs
    await h.until_output(SERVICE_CONFIG, "greeter", lambda s: s.inputs == want)
    await h.settled()


async def _running_with(s: Supervisor, text: bytes) -> None:
    r = s.get("greeter")
    await r.wait_for(lambda r: r.state is ServiceState.RUNNING)
    seen = b""
    async for chunk in r.log.read(tail_lines=-1, follow=True):
        seen += chunk
        if text in seen:
            return


async def test_changed_fields_restart_the_service_with_its_new_spec(sup):
    old = cfg("node-1")
    sup.register(stamped(build(old), old, PATHS))
    sup.start("greeter")
    await _running_with(sup, b"hello from node-1")
    pid = sup.get("greeter").pid
    async with ControllerHarness(*controllers(sup)) as h:
        await running(h, old)
        # a field the service does not use: nothing happens
        await running(h, cfg("node-1", labels="b"))
        assert sup.get("greeter").pid == pid
        await running(h, cfg("node-2"))
        await _running_with(sup, b"hello from node-2")
        assert sup.get("greeter").pid != pid
        states = [e.state for e in sup.get("greeter").events]
        assert states.count(ServiceState.STOPPING) == 1, states


async def test_a_service_the_new_config_turns_off_is_stopped_and_reports_why(sup):
    old = cfg("node-1")
    sup.register(stamped(build(old), old, PATHS))
    sup.start("greeter")
    await _running_with(sup, b"hello from node-1")
    async with ControllerHarness(*controllers(sup)) as h:
        await running(h, cfg("off"))
        r = sup.get("greeter")
        await r.wait_for(lambda r: r.state is ServiceState.SKIPPED)
        assert r.events[-1].message == "greeter is off on this node"
        # and back on
        await running(h, cfg("node-3"))
        await _running_with(sup, b"hello from node-3")
