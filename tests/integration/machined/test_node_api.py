"""The rest of the node API of a sandbox node: COSI on the same socket, kernel log, files,
statistics, events resumption and unimplemented methods."""

from __future__ import annotations

import asyncio
import gzip
import io
import tarfile

import grpc
import pytest
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2 as m
from talos.api.v1alpha1 import state_pb2, state_pb2_grpc

from .node import running_node

pytestmark = [pytest.mark.root, pytest.mark.requires("unshare", "containerd")]


async def test_node_api_surface(tmp_path):
    async with running_node(tmp_path / "n", hostname="api-node") as node:
        await node.wait_service("containerd", "running")
        await node.wait_event(lambda e: e.service == "containerd"
                              and e.message == "Health check successful",
                              msg_type=m.ServiceStateEvent)

        # service status is a COSI resource, served on the same socket
        state = state_pb2_grpc.StateStub(node.channel)
        for _ in range(100):
            got = await state.Get(state_pb2.GetRequest(
                namespace="v1alpha1", type="Services.v1alpha1.talos.dev", id="containerd"))
            if "healthy: true" in got.resource.spec.yaml_spec:
                break
            await asyncio.sleep(0.05)
        assert "running: true" in got.resource.spec.yaml_spec
        assert "healthy: true" in got.resource.spec.yaml_spec
        listed = [r.resource.metadata.id async for r in state.List(state_pb2.ListRequest(
            namespace="v1alpha1", type="Services.v1alpha1.talos.dev"))]
        assert {"containerd", "kubelet", "apid"} <= set(listed)

        # kernel log
        dmesg = b"".join([d.bytes async for d in node.api.Dmesg(m.DmesgRequest())])
        assert dmesg.count(b"\n") > 0 and b": [" in dmesg

        # statistics, each in the envelope with the node's hostname
        for call in (node.api.Memory, node.api.SystemStat, node.api.CPUInfo,
                     node.api.LoadAvg, node.api.DiskStats, node.api.NetworkDeviceStats):
            resp = await call(empty_pb2.Empty())
            assert resp.messages[0].metadata.hostname == "api-node", call
        mem = (await node.api.Memory(empty_pb2.Empty())).messages[0].meminfo
        assert mem.memtotal > mem.memfree > 0
        cpus = (await node.api.CPUInfo(empty_pb2.Empty())).messages[0].cpu_info
        assert len(cpus) >= 1 and cpus[0].flags
        nets = (await node.api.NetworkDeviceStats(empty_pb2.Empty())).messages[0].devices
        assert [d.name for d in nets] == ["lo"]  # its own network namespace
        # ... with loopback up, so node-local TCP works (apid, etcd listen there)
        flags = b"".join([d.bytes async for d in node.api.Read(
            m.ReadRequest(path="/sys/class/net/lo/flags"))])
        assert int(flags.strip(), 16) & 0x1

        # files: copy is a tar.gz of the tree, disk usage adds up
        (node.sandbox.ephemeral_dir / "dir").mkdir()
        (node.sandbox.ephemeral_dir / "dir" / "a.txt").write_bytes(b"x" * 1000)
        archive = b"".join([d.bytes async for d in node.api.Copy(
            m.CopyRequest(root_path="/var/dir"))])
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive))) as tar:
            member = tar.extractfile("dir/a.txt")
            assert member is not None and member.read() == b"x" * 1000
        du = [d async for d in node.api.DiskUsage(m.DiskUsageRequest(paths=["/var/dir"],
                                                                      all=True))]
        sizes = {d.relative_name: d.size for d in du}
        assert sizes["a.txt"] == 1000 and sizes["."] >= 1000
        listing = [f async for f in node.api.List(m.ListRequest(root="/var/dir"))]
        root = next(f for f in listing if f.relative_name == ".")
        assert root.is_dir and root.mode & (1 << 31)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async for _ in node.api.Copy(m.CopyRequest(root_path="/root")):
                pass
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED

        # events resume after an id
        past = []
        call = node.api.Events(m.EventsRequest(tail_events=3))
        async for ev in call:
            past.append(ev)
            if len(past) == 3:
                break
        call.cancel()
        assert len({e.id for e in past}) == 3
        after = node.api.Events(m.EventsRequest(tail_id=past[0].id))
        first_after = await anext(aiter(after))
        after.cancel()
        assert first_after.id == past[1].id

        # a node not booted from an image has no boot slots to roll back to, and says so
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await node.api.Rollback(m.RollbackRequest())
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "no boot slots" in (err.value.details() or "")


async def test_a_second_reboot_request_is_refused_while_one_runs(tmp_path):
    async with running_node(tmp_path / "n") as node:
        await node.wait_boot()
        await node.api.Shutdown(m.ShutdownRequest())
        try:
            await node.api.Reboot(m.RebootRequest())
        except grpc.aio.AioRpcError as err:
            # either refused as busy, or machined is already gone
            assert err.code() in (grpc.StatusCode.FAILED_PRECONDITION,
                                  grpc.StatusCode.UNAVAILABLE), err
            if err.code() == grpc.StatusCode.FAILED_PRECONDITION:
                assert "'shutdown' is in progress" in (err.details() or "")
        else:
            pytest.fail("a reboot during a shutdown was accepted")
        assert await asyncio.to_thread(node.sandbox.process.wait, 60) == 0
