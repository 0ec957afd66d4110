"""The controllers that publish facts machined's sequences, applier and etcd manager set
(config.AcquireController, runtime.MachineStatusController, etcd.MemberController) and the
service states (v1alpha1.ServiceController): `publish` returns once the resource shows the
value, and the resource follows every change."""

from __future__ import annotations

import asyncio
import sys

from talos.cosi.testing import ControllerHarness
from talos.machined.config import parse_config
from talos.machined.controllers.config.acquire import AcquireController
from talos.machined.controllers.etcd.member import MemberController
from talos.machined.controllers.runtime.machine_status import (
    ID,
    MachineStatusController,
    machine_status,
)
from talos.machined.controllers.v1alpha1.service import ServiceController
from talos.machined.observed import Observed
from talos.machined.system.reaper import Reaper
from talos.machined.system.service import ProcessSpec, ServiceSpec, ServiceState
from talos.machined.system.supervisor import Supervisor
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.etcd import ETCD_MEMBER, LOCAL_MEMBER_ID
from talos.machinery.resources.runtime import MACHINE_STATUS
from talos.machinery.resources.v1alpha1 import SERVICE
from talos.machinery.resources.v1alpha1 import ServiceSpec as ServiceStatus

CONFIG = b"""version: v1alpha1
machine:
  type: worker
  network:
    hostname: %s
cluster:
  clusterName: c
"""


async def test_the_running_config_is_published_as_it_changes_and_gone_without_one() -> None:
    running = Observed(None)
    async with ControllerHarness(AcquireController(running)) as h:
        await h.settled()
        assert h.get(MACHINE_CONFIG, ACTIVE_ID) is None
        await running.publish(parse_config(CONFIG % b"a"))
        r = h.get(MACHINE_CONFIG, ACTIVE_ID)
        assert r is not None and "hostname: a" in r.spec.text
        assert r.metadata.owner == "config.AcquireController"
        await running.publish(parse_config(CONFIG % b"b"))
        r = h.get(MACHINE_CONFIG, ACTIVE_ID)
        assert r is not None and "hostname: b" in r.spec.text
        await running.publish(None)
        assert h.get(MACHINE_CONFIG, ACTIVE_ID) is None


async def test_the_stage_is_published_in_order() -> None:
    stage = Observed(None)
    async with ControllerHarness(MachineStatusController(stage)) as h:
        await stage.publish(machine_status("booting"))
        assert h.get(MACHINE_STATUS, ID).spec.stage == "booting"
        await stage.publish(machine_status("running", ready=True))
        r = h.get(MACHINE_STATUS, ID)
        assert (r.spec.stage, r.spec.status.ready) == ("running", True)


async def test_the_local_member_is_published_and_gone_when_it_left() -> None:
    member = Observed(None)
    async with ControllerHarness(MemberController(member)) as h:
        await member.publish("8e9e05c52164694d")
        assert h.get(ETCD_MEMBER, LOCAL_MEMBER_ID).spec.member_id == "8e9e05c52164694d"
        await member.publish(None)
        assert h.get(ETCD_MEMBER, LOCAL_MEMBER_ID) is None


async def test_every_registered_service_has_its_state_as_a_resource() -> None:
    reaper = Reaper(reap_all=False)
    sup = Supervisor(reaper)
    with reaper.installed(asyncio.get_running_loop()):
        task = asyncio.create_task(sup.run())
        await sup.ready()
        try:
            async with ControllerHarness(ServiceController(sup)) as h:
                sup.register(ServiceSpec(id="off", skip_reason="not here"))
                sup.register(ServiceSpec(id="sleeper", process=ProcessSpec(
                    argv=(sys.executable, "-c", "import time; time.sleep(600)"))))
                await h.until_outputs(SERVICE, lambda o: set(o) == {"off", "sleeper"})
                sup.start("sleeper")
                await sup.get("sleeper").wait_for(lambda r: r.state is ServiceState.RUNNING)
                r = await h.until_output(SERVICE, "sleeper", lambda s: s.running)
                assert r.spec == ServiceStatus(running=True, healthy=False, unknown=True)
                await sup.stop("sleeper")
                await h.until_output(SERVICE, "sleeper", lambda s: not s.running)
        finally:
            await sup.stop_all()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
