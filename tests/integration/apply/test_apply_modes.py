"""ApplyConfiguration over the node socket, in every mode, against a real plain-mode machined."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import duration_pb2, empty_pb2

from talos.api.machine import machine_pb2 as m

from .harness import config, machined

Mode = m.ApplyConfigurationRequest
HOSTNAME = ("network", "HostnameStatuses.net.talos.dev", "hostname")
MACHINE_CONFIG = ("config", "MachineConfigs.config.talos.dev", "v1alpha1")


async def test_hostname_change_applies_without_reboot_and_shows_in_hostname_status(tmp_path):
    async with machined(tmp_path, seed=config("node-1")) as n:
        await n.wait_stage("running")
        assert "hostname: node-1" in await n.wait_resource(*HOSTNAME, "node-1")
        r = await n.apply(config("node-2.example.org"), Mode.NO_REBOOT)
        assert r.mode == Mode.NO_REBOOT
        assert r.mode_details == "Applied configuration without a reboot"
        status = await n.wait_resource(*HOSTNAME, "hostname: node-2")
        assert "domainname: example.org" in status
        assert (n.state / "config.yaml").read_bytes() == config("node-2.example.org")
        assert "node-2.example.org" in await n.resource_text(*MACHINE_CONFIG)
        host = await n.api.Hostname(empty_pb2.Empty())
        assert host.messages[0].hostname == "node-2.example.org"
        assert n.reboots() == 0


async def test_no_reboot_refuses_fields_that_need_a_reboot_and_changes_nothing(tmp_path):
    async with machined(tmp_path, seed=config("node-1")) as n:
        await n.wait_stage("running")
        new = config("node-9", machine_type="controlplane")
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await n.apply(new, Mode.NO_REBOOT)
        assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "machine.type" in e.value.details()
        assert "need a reboot" in e.value.details()
        assert (n.state / "config.yaml").read_bytes() == config("node-1")
        assert "node-1" in await n.resource_text(*MACHINE_CONFIG)


async def test_invalid_config_is_refused_with_every_problem_and_running_config_kept(tmp_path):
    async with machined(tmp_path, seed=config("node-1")) as n:
        await n.wait_stage("running")
        bad = b"version: v1alpha1\nmachine:\n  type: bogus\n  nosuchfield: 1\ncluster: {}\n"
        for mode in (Mode.AUTO, Mode.NO_REBOOT, Mode.REBOOT, Mode.STAGED, Mode.TRY):
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await n.apply(bad, mode)
            assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert 'machine.type: invalid value "bogus"' in e.value.details()
            assert "machine.nosuchfield" in e.value.details()
        assert (n.state / "config.yaml").read_bytes() == config("node-1")
        assert not (n.state / "config.staged.yaml").exists()
        assert "node-1" in await n.resource_text(*MACHINE_CONFIG)


async def test_auto_reboots_when_a_field_needs_it_and_names_the_field(tmp_path):
    async with machined(tmp_path, seed=config("node-1")) as n:
        await n.wait_stage("running")
        r = await n.apply(config("node-1", machine_type="controlplane"), Mode.AUTO)
        assert r.mode == Mode.REBOOT
        assert "machine.type" in r.mode_details and "reboot" in r.mode_details
        await n.wait_reboot(0)
        await n.wait_stage("running")
        assert "type: controlplane" in await n.resource_text(*MACHINE_CONFIG)
        # and auto without such fields stays in place
        r = await n.apply(config("node-2", machine_type="controlplane"), Mode.AUTO)
        assert r.mode == Mode.NO_REBOOT
        assert "auto" in r.mode_details
        await n.wait_resource(*HOSTNAME, "node-2")
        assert n.reboots() == 1


async def test_reboot_mode_persists_then_reboots(tmp_path):
    async with machined(tmp_path, seed=config("node-1")) as n:
        await n.wait_stage("running")
        r = await n.apply(config("node-5"), Mode.REBOOT)
        assert r.mode == Mode.REBOOT
        await n.wait_reboot(0)
        await n.wait_stage("running")
        assert "node-5" in await n.wait_resource(*HOSTNAME, "node-5")


async def test_staged_config_is_applied_on_the_next_reboot(tmp_path):
    async with machined(tmp_path, seed=config("node-1")) as n:
        await n.wait_stage("running")
        r = await n.apply(config("node-staged", machine_type="controlplane"), Mode.STAGED)
        assert r.mode == Mode.STAGED
        assert "after a reboot" in r.mode_details
        assert (n.state / "config.yaml").read_bytes() == config("node-1")
        assert "node-1" in await n.resource_text(*MACHINE_CONFIG)
        await n.api.Reboot(m.RebootRequest())
        await n.wait_reboot(0)
        await n.wait_stage("running")
        assert "node-staged" in await n.wait_resource(*HOSTNAME, "node-staged")
        assert not (n.state / "config.staged.yaml").exists()
        assert (n.state / "config.yaml").read_bytes() == \
            config("node-staged", machine_type="controlplane")


async def test_try_mode_rolls_back_when_not_confirmed(tmp_path):
    async with machined(tmp_path, seed=config("node-1")) as n:
        await n.wait_stage("running")
        r = await n.apply(config("node-tried"), Mode.TRY,
                          try_mode_timeout=duration_pb2.Duration(seconds=1))
        assert r.mode == Mode.TRY
        assert "rolled back in 1s unless confirmed" in r.mode_details
        await n.wait_resource(*HOSTNAME, "node-tried")
        # never persisted: a crash or reboot now would boot the old config
        assert (n.state / "config.yaml").read_bytes() == config("node-1")
        await n.wait_resource(*HOSTNAME, "hostname: node-1")
        assert "node-1" in await n.resource_text(*MACHINE_CONFIG)
        assert "try mode timed out" in n.log()


async def test_try_mode_is_confirmed_by_a_second_apply(tmp_path):
    async with machined(tmp_path, seed=config("node-1")) as n:
        await n.wait_stage("running")
        await n.apply(config("node-tried"), Mode.TRY,
                      try_mode_timeout=duration_pb2.Duration(seconds=2))
        await n.wait_resource(*HOSTNAME, "node-tried")
        r = await n.apply(config("node-tried"), Mode.NO_REBOOT)
        assert "confirmed" in r.mode_details
        assert (n.state / "config.yaml").read_bytes() == config("node-tried")
        # a later TRY with a short timeout proves the timer machinery still runs; the
        # confirmed config is what it rolls back to
        await n.apply(config("node-tried-2"), Mode.TRY,
                      try_mode_timeout=duration_pb2.Duration(nanos=300_000_000))
        await n.wait_resource(*HOSTNAME, "node-tried-2")
        await n.wait_resource(*HOSTNAME, "hostname: node-tried\n")
        assert n.log().count("try mode timed out") == 1


async def test_try_mode_refuses_fields_that_need_a_reboot(tmp_path):
    async with machined(tmp_path, seed=config("node-1")) as n:
        await n.wait_stage("running")
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await n.apply(config("node-1", machine_type="controlplane"), Mode.TRY)
        assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "machine.type" in e.value.details()


async def test_dry_run_returns_a_unified_diff_and_changes_nothing(tmp_path):
    async with machined(tmp_path, seed=config("node-1")) as n:
        await n.wait_stage("running")
        for mode in (Mode.AUTO, Mode.NO_REBOOT, Mode.STAGED, Mode.REBOOT):
            r = await n.apply(config("node-dry"), mode, dry_run=True)
            assert r.mode_details.startswith("Dry run summary:\n")
            assert "(skipped in dry-run)" in r.mode_details
            assert "--- a/config\n+++ b/config\n" in r.mode_details
            assert "-    hostname: node-1\n+    hostname: node-dry\n" in r.mode_details
        assert (n.state / "config.yaml").read_bytes() == config("node-1")
        assert not (n.state / "config.staged.yaml").exists()
        assert "node-1" in await n.resource_text(*MACHINE_CONFIG)
        assert n.reboots() == 0
