"""Maintenance mode: a node without config serves a short insecure API (server TLS only)."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2 as m
from talos.api.machine import machine_pb2_grpc
from talos.api.storage import storage_pb2_grpc
from talos.api.v1alpha1 import state_pb2, state_pb2_grpc
from talos.machined.maintenance.server import ALLOWED

from .harness import config, insecure, machined

Mode = m.ApplyConfigurationRequest


def _services() -> list:
    from talos.api.cluster import cluster_pb2
    from talos.api.inspect import inspect_pb2
    from talos.api.storage import storage_pb2
    from talos.api.time import time_pb2
    files = (m.DESCRIPTOR, storage_pb2.DESCRIPTOR, time_pb2.DESCRIPTOR, state_pb2.DESCRIPTOR,
             inspect_pb2.DESCRIPTOR, cluster_pb2.DESCRIPTOR)
    return [svc for f in files for svc in f.services_by_name.values()]


async def _call(channel: grpc.aio.Channel, method) -> None:
    from google.protobuf import message_factory
    path = f"/{method.containing_service.full_name}/{method.name}"
    req_cls = message_factory.GetMessageClass(method.input_type)
    resp_cls = message_factory.GetMessageClass(method.output_type)
    kw = dict(request_serializer=req_cls.SerializeToString,
              response_deserializer=resp_cls.FromString)
    if method.client_streaming:
        async def one():
            yield req_cls()
        if method.server_streaming:
            call = channel.stream_stream(path, **kw)(one(), timeout=10)
            async for _ in call:
                pass
        else:
            await channel.stream_unary(path, **kw)(one(), timeout=10)
    elif method.server_streaming:
        async for _ in channel.unary_stream(path, **kw)(req_cls(), timeout=10):
            pass
    else:
        await channel.unary_unary(path, **kw)(req_cls(), timeout=10)


async def test_maintenance_mode_serves_only_its_list_and_refuses_everything_else(tmp_path):
    async with machined(tmp_path, maintenance=True) as n:
        await n.wait_stage("maintenance")
        assert not (n.state / "config.yaml").exists()
        async with insecure(n.maintenance_port) as ch:
            api = machine_pb2_grpc.MachineServiceStub(ch)
            v = await api.Version(empty_pb2.Empty())
            assert v.messages[0].version.tag
            disks = await storage_pb2_grpc.StorageServiceStub(ch).Disks(empty_pb2.Empty())
            assert len(disks.messages) == 1
            logs = b"".join([d.bytes async for d in api.Logs(
                m.LogsRequest(id="machined", tail_lines=-1))])
            assert b"maintenance mode" in logs
            cosi = state_pb2_grpc.StateStub(ch)
            hs = await cosi.Get(state_pb2.GetRequest(
                namespace="network", type="HostnameStatuses.net.talos.dev", id="hostname"))
            assert hs.resource.metadata.id == "hostname"
            # refused: every other method of every service, one by one
            refused = []
            for svc in _services():
                for method in svc.methods:
                    path = f"/{svc.full_name}/{method.name}"
                    if path in ALLOWED:
                        continue
                    with pytest.raises(grpc.aio.AioRpcError) as e:
                        await _call(ch, method)
                    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED, path
                    assert "node is in maintenance mode" in e.value.details(), path
                    refused.append(path)
            assert "/machine.MachineService/Reboot" in refused
            assert "/machine.MachineService/Reset" in refused
            assert "/cosi.resource.State/Create" in refused
            assert len(refused) > 40
            # allowed methods, disallowed arguments
            with pytest.raises(grpc.aio.AioRpcError) as e:
                async for _ in api.Logs(m.LogsRequest(id="containerd")):
                    pass
            assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
            with pytest.raises(grpc.aio.AioRpcError) as e:
                async for _ in cosi.List(state_pb2.ListRequest(
                        namespace="config", type="MachineConfigs.config.talos.dev")):
                    pass
            assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "maintenance mode" in e.value.details()
            # runtime resources are readable, as by upstream's maintenance readers
            ms = await cosi.Get(state_pb2.GetRequest(
                namespace="runtime", type="MachineStatuses.runtime.talos.dev", id="machine"))
            assert ms.resource.metadata.id == "machine"
            # an unknown method is refused the same way
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await ch.unary_unary("/machine.MachineService/NoSuchMethod")(b"")
            assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
        # the unix socket still serves everything (it is only reachable by root/apid)
        assert (await n.api.ServiceList(empty_pb2.Empty())).messages


async def test_invalid_apply_leaves_maintenance_mode_then_valid_one_boots_the_node(tmp_path):
    async with machined(tmp_path, maintenance=True) as n:
        await n.wait_stage("maintenance")
        async with insecure(n.maintenance_port) as ch:
            api = machine_pb2_grpc.MachineServiceStub(ch)
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await api.ApplyConfiguration(Mode(
                    data=b"version: v1alpha1\nmachine:\n  type: bogus\n  nope: 1\n",
                    mode=Mode.AUTO))
            assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert 'machine.type: invalid value "bogus"' in e.value.details()
            assert "machine.nope" in e.value.details()
            await n.wait_stage("maintenance")
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await api.ApplyConfiguration(Mode(data=config("fresh"), mode=Mode.TRY))
            assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            dry = await api.ApplyConfiguration(Mode(data=config("fresh"), mode=Mode.AUTO,
                                                    dry_run=True))
            assert "+    hostname: fresh" in dry.messages[0].mode_details
            assert not (n.state / "config.yaml").exists()
            r = await api.ApplyConfiguration(Mode(data=config("fresh"), mode=Mode.AUTO))
            assert "leaves maintenance mode" in r.messages[0].mode_details
        await n.wait_reboot(0)
        await n.wait_stage("running")
        assert "fresh" in await n.wait_resource("network", "HostnameStatuses.net.talos.dev",
                                                "hostname", "fresh")
        assert (n.state / "config.yaml").read_bytes() == config("fresh")
        # the maintenance API is gone (apid owns the port on a sandbox node)
        with pytest.raises(OSError):
            _r, w = await asyncio.open_connection("127.0.0.1", n.maintenance_port)
            w.close()
            await w.wait_closed()


async def test_reset_wiping_state_comes_back_in_maintenance_mode(tmp_path):
    async with machined(tmp_path, seed=config("node-1"), maintenance=True) as n:
        await n.wait_stage("running")
        (n.root / "var" / "data.txt").write_text("x")
        await n.api.Reset(m.ResetRequest(graceful=True, reboot=True, system_partitions_to_wipe=[
            m.ResetPartitionSpec(label="STATE", wipe=True)]))
        await n.wait_reboot(0)
        await n.wait_stage("maintenance")
        assert not (n.state / "config.yaml").exists()
        assert (n.root / "var" / "data.txt").exists()  # EPHEMERAL was not asked for
        assert "sequence reset done" in n.log() or "wiped STATE" in n.log()
        async with insecure(n.maintenance_port) as ch:
            v = await machine_pb2_grpc.MachineServiceStub(ch).Version(empty_pb2.Empty())
            assert v.messages


async def test_reset_of_ephemeral_keeps_the_config_and_reset_without_reboot_powers_off(
        tmp_path):
    async with machined(tmp_path, seed=config("node-1")) as n:
        await n.wait_stage("running")
        (n.root / "var" / "data.txt").write_text("x")
        await n.api.Reset(m.ResetRequest(reboot=True, system_partitions_to_wipe=[
            m.ResetPartitionSpec(label="EPHEMERAL", wipe=True)]))
        await n.wait_reboot(0)
        await n.wait_stage("running")
        assert not (n.root / "var" / "data.txt").exists()
        assert (n.state / "config.yaml").read_bytes() == config("node-1")
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await n.api.Reset(m.ResetRequest(system_partitions_to_wipe=[
                m.ResetPartitionSpec(label="META", wipe=True)]))
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "STATE, EPHEMERAL" in e.value.details()
        await n.api.Reset(m.ResetRequest())  # everything, then power off
        assert await asyncio.to_thread(n.proc.wait) == 0
        assert not (n.state / "config.yaml").exists()
        assert "powered off" in n.log()
