"""network.HostnameStatusController: the hostname from `machine.network.hostname` (split
into hostname and domainname) or the node's own name, applied to the kernel (sandbox) once
per change."""

from __future__ import annotations

from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.network.hostname_status import HostnameStatusController
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import HOSTNAME_STATUS, HostnameStatusSpec
from tests.unit.controllers.configs import machine_config


async def test_without_a_config_the_node_keeps_its_own_name() -> None:
    async with ControllerHarness(HostnameStatusController(default="node-0")) as h:
        status = await h.until_output(HOSTNAME_STATUS, "hostname")
        assert status.spec == HostnameStatusSpec(hostname="node-0", domainname="")


async def test_configured_hostname_is_split_applied_and_reverted() -> None:
    applied: list[str] = []

    def set_hostname(name: str) -> None:
        applied.append(name)
        h.changed()

    async with ControllerHarness(HostnameStatusController(
            default="node-0", set_hostname=set_hostname)) as h:
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config(
            {"machine": {"network": {"hostname": "cp-1.example.org"}}}))
        await h.until_output(HOSTNAME_STATUS, "hostname",
                             lambda s: s == HostnameStatusSpec("cp-1", "example.org"))
        await h.until("the kernel hostname to be set", lambda: applied[-1:] == ["cp-1"] or None)

        # a change elsewhere in the config does not set the hostname again
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config(
            {"machine": {"network": {"hostname": "cp-1.example.org"}, "type": "worker"}}))
        await h.settled()
        assert applied.count("cp-1") == 1

        # the config gone: back to the node's own name
        await h.destroy(MACHINE_CONFIG, ACTIVE_ID)
        await h.until_output(HOSTNAME_STATUS, "hostname",
                             lambda s: s == HostnameStatusSpec("node-0", ""))
        await h.until("the own name to be set again", lambda: applied[-1:] == ["node-0"] or None)
