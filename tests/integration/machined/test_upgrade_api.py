"""Upgrade, Rollback and the LifecycleService on a node that was not booted from an image:
every call fails before anything changes, with its code and a reason naming the problem."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import empty_pb2

from talos.api.machine import lifecycle_pb2, lifecycle_pb2_grpc
from talos.api.machine import machine_pb2 as m

from .node import running_node

pytestmark = [pytest.mark.root, pytest.mark.requires("unshare", "containerd")]


async def test_upgrade_calls_on_a_node_without_boot_slots_say_why(tmp_path):
    async with running_node(tmp_path / "n", hostname="upg-node") as node:
        await node.wait_boot()
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await node.api.Upgrade(m.UpgradeRequest())
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert err.value.details() == "image: empty (expected an installer image reference)"

        with pytest.raises(grpc.aio.AioRpcError) as err:
            await node.api.Upgrade(m.UpgradeRequest(image="10.5.0.1:5000/installer:v2"))
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "there are no boot slots to upgrade or roll back" in err.value.details()

        with pytest.raises(grpc.aio.AioRpcError) as err:
            await node.api.Upgrade(m.UpgradeRequest(image="x", reboot_mode=7))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "reboot_mode: unknown value 7" in err.value.details()

        lifecycle = lifecycle_pb2_grpc.LifecycleServiceStub(node.channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async for _ in lifecycle.Upgrade(lifecycle_pb2.LifecycleServiceUpgradeRequest()):
                pass
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async for _ in lifecycle.Install(lifecycle_pb2.LifecycleServiceInstallRequest()):
                pass
        # as upstream v1.13.9's LifecycleService on a container
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert err.value.details() == "installation is not supported in container mode"

        # nothing happened: the node still answers and is not rebooting
        reply = await node.api.Version(empty_pb2.Empty())
        assert reply.messages[0].version.tag
