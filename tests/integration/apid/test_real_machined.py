"""apid in front of a real machined (plain mode, its own root): the whole local path."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2, machine_pb2_grpc
from talos.apid.server import ApidServer, ApidSettings
from tests.integration.apid.harness import Pki, free_port
from tests.processes import terminate

CONFIG = """version: v1alpha1
machine:
  type: controlplane
  network:
    hostname: apid-test-node
cluster:
  clusterName: apid-test
"""


@pytest.fixture
async def machined(tmp_path: Path) -> AsyncIterator[Path]:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG)
    root = tmp_path / "root"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "talos", "machined", "--root", str(root), "--config", str(cfg),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = root / "system/run/machined/machine.sock"
    try:
        async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
            await asyncio.wait_for(ch.channel_ready(), 60)
        yield sock
    finally:
        await terminate(proc)


async def test_reader_reaches_a_real_machined_through_apid(machined: Path, pki: Pki) -> None:
    port = free_port(["127.0.0.2"])
    cert = pki.node_cert("127.0.0.2")
    apid = ApidServer(ApidSettings(pki.ca_pem, cert.crt, cert.key, listen=f"127.0.0.2:{port}",
                                   backend_socket=str(machined), remote_port=port))
    await apid.start()
    try:
        client = pki.client("os:reader")
        creds = grpc.ssl_channel_credentials(pki.ca_pem, client.key, client.crt)
        async with grpc.aio.secure_channel(f"127.0.0.2:{port}", creds) as ch:
            api = machine_pb2_grpc.MachineServiceStub(ch)
            version = await api.Version(empty_pb2.Empty())
            assert version.messages[0].version.tag
            hostname = await api.Hostname(empty_pb2.Empty())
            assert hostname.messages[0].hostname == "apid-test-node"
            services = await api.ServiceList(empty_pb2.Empty())
            assert services.messages[0].services
            # the same node addressed by name: fan-out envelope stamped with it
            fan = await api.Hostname(empty_pb2.Empty(), metadata=(("nodes", "127.0.0.2"),))
            assert fan.messages[0].metadata.hostname == "127.0.0.2"
            logs = [m async for m in api.Logs(machine_pb2.LogsRequest(id="machined",
                                                                      tail_lines=5))]
            assert b"".join(m.bytes for m in logs)
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await api.Reboot(machine_pb2.RebootRequest())
            assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await apid.stop(0)
