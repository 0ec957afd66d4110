"""network.TimeServerSpecController: the NTP servers named in `machine.time.servers`, and
none (never a default pool) when the config names none."""

from __future__ import annotations

from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.network.time_server_status import TimeServerStatusController
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import TIME_SERVER_STATUS, TimeServerStatusSpec
from tests.unit.controllers.configs import machine_config


async def test_time_servers_follow_the_config() -> None:
    async with ControllerHarness(TimeServerStatusController()) as h:
        st = await h.until_output(TIME_SERVER_STATUS, "timeservers")
        assert st.spec == TimeServerStatusSpec(())

        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config(
            {"machine": {"time": {"servers": ["10.5.0.1", "ntp.example.org:1123"]}}}))
        await h.until_output(TIME_SERVER_STATUS, "timeservers", lambda s: s.time_servers == (
            "10.5.0.1", "ntp.example.org:1123"))

        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config({"machine": {"type": "worker"}}))
        await h.until_output(TIME_SERVER_STATUS, "timeservers", lambda s: s.time_servers == ())
        assert list(h.outputs(TIME_SERVER_STATUS)) == ["timeservers"]
