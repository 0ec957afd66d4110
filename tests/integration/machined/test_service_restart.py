"""A config change applied without a reboot reaches the services built from it: in a node
sandbox, adding a certificate SAN restarts apid and trustd (their certificates name it) and
the reply says so; a change no service is built from restarts nothing."""

from __future__ import annotations

import asyncio

from talos.api.machine import machine_pb2 as m
from tests.integration.machined.node import running_node


async def _states(node, sid: str) -> list[str]:
    return [e.state for e in (await node.services())[sid].events.events]


async def _stopped_since(node, sid: str, before: int) -> list[str]:
    while True:
        states = await _states(node, sid)
        if "Stopping" in states[before:] or "Finished" in states[before:]:
            return states[before:]
        await asyncio.sleep(0.05)


async def test_a_new_cert_san_restarts_apid_and_trustd_and_a_label_restarts_nothing(tmp_path):
    async with running_node(tmp_path / "n", hostname="san-test") as node:
        await node.wait_boot()

        # the boot config plus what ApplyConfiguration's validation asks for
        base = node.config.replace(b"cluster:\n", b"cluster:\n  controlPlane:\n"
                                                   b"    endpoint: https://127.0.0.1:6443\n")
        r = await node.api.ApplyConfiguration(m.ApplyConfigurationRequest(
            data=base, mode=m.ApplyConfigurationRequest.NO_REBOOT))
        assert "apid" not in r.messages[0].mode_details
        before = {sid: len(await _states(node, sid)) for sid in ("apid", "trustd")}

        label = base.replace(b"  network:\n", b"  nodeLabels:\n    x: y\n  network:\n")
        r = await node.api.ApplyConfiguration(m.ApplyConfigurationRequest(
            data=label, mode=m.ApplyConfigurationRequest.NO_REBOOT))
        assert "services:" not in r.messages[0].mode_details

        san = label.replace(b"  network:\n", b"  certSANs:\n    - san.example.org\n"
                                             b"  network:\n", 1)
        r = await node.api.ApplyConfiguration(m.ApplyConfigurationRequest(
            data=san, mode=m.ApplyConfigurationRequest.NO_REBOOT))
        details = r.messages[0].mode_details
        assert "apid reconfigured (machine.certSANs changed)" in details, details
        assert "trustd reconfigured (machine.certSANs changed)" in details, details
        for sid in ("apid", "trustd"):
            seen = await _stopped_since(node, sid, before[sid])
            assert seen, sid
