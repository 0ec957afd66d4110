"""Maintenance mode in a real node sandbox: machined (PID 1) serves the insecure API on
:50000 of the node's own network; an applied config boots the node and apid takes the port
(a client must then present a certificate)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2_grpc
from talos.machinery.config.generate import GenerateOptions, generate
from talos.provision.sandbox import launch

pytestmark = pytest.mark.requires("root", "unshare", "nsenter")

# run inside the node's network namespace (nsenter --net): the port is the node's own
CLIENT = r'''
import asyncio, json, sys
import grpc
from google.protobuf import empty_pb2
from talos.api.machine import machine_pb2 as m, machine_pb2_grpc
from talos.machinery.client.connection import ConnectionOptions, connect

async def main(what, data_path):
    out = {}
    if what.startswith("mtls"):
        from talos.machinery.client.talosconfig import Talosconfig
        tc = Talosconfig.load(data_path)
        opts = ConnectionOptions.from_context(tc.contexts[tc.context],
                                              endpoints=["127.0.0.1"])
    else:
        opts = ConnectionOptions(("127.0.0.1",), insecure=True)
    if what == "maintenance-version":
        what = "version-only"
    conn = await connect(opts)
    try:
        api = machine_pb2_grpc.MachineServiceStub(conn.channel)
        out["version"] = (await api.Version(empty_pb2.Empty(), timeout=10)).messages[0].version.tag
        if what == "mtls" and len(sys.argv) > 3:
            with open(sys.argv[3], "rb") as f:
                r = await api.ApplyConfiguration(m.ApplyConfigurationRequest(
                    data=f.read(), mode=m.ApplyConfigurationRequest.NO_REBOOT), timeout=30)
            out["apply"] = r.messages[0].mode_details
        if what == "mtls-reset":
            await api.Reset(m.ResetRequest(graceful=False, reboot=True,
                                           system_partitions_to_wipe=[m.ResetPartitionSpec(
                                               label="STATE", wipe=True)]), timeout=30)
            out["reset"] = True
        if what == "maintenance":
            try:
                await api.ServiceList(empty_pb2.Empty(), timeout=10)
            except grpc.aio.AioRpcError as e:
                out["servicelist"] = [e.code().name, e.details()]
            with open(data_path, "rb") as f:
                r = await api.ApplyConfiguration(m.ApplyConfigurationRequest(
                    data=f.read(), mode=m.ApplyConfigurationRequest.AUTO), timeout=30)
            out["apply"] = r.messages[0].mode_details
    finally:
        await conn.close()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], sys.argv[2]))
'''


def _in_node(pid: int, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["nsenter", "-t", str(pid), "--net", *argv], capture_output=True,
                          text=True, timeout=60)


async def _client(pid: int, tmp: Path, what: str, data: Path, *extra: str) -> dict:
    script = tmp / "client.py"
    script.write_text(CLIENT)
    while True:  # the server comes up asynchronously after boot; retry until it answers
        p = await asyncio.to_thread(_in_node, pid, sys.executable, str(script), what,
                                    str(data), *extra)
        if p.returncode == 0:
            return json.loads(p.stdout.strip().splitlines()[-1])
        err = p.stderr.lower()
        if not any(w in err for w in ("unavailable", "refused", "unreachable", "handshake")):
            raise AssertionError(p.stderr)
        await asyncio.sleep(0.2)


async def test_sandbox_node_leaves_maintenance_mode_and_apid_takes_the_port(tmp_path):
    gen = generate(GenerateOptions("maint", "https://10.99.0.2:6443"))
    cfg = tmp_path / "controlplane.yaml"
    cfg.write_text(gen.controlplane)
    tc = tmp_path / "talosconfig"
    tc.write_text(gen.talosconfig.to_yaml())
    node = await asyncio.to_thread(launch, tmp_path / "node")  # no config: maintenance
    try:
        await asyncio.to_thread(node.wait_socket)
        # an address on the node's network (apid waits for one to name in its certificate)
        for cmd in (["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                    ["ip", "addr", "add", "10.99.0.2/24", "dev", "v0"],
                    ["ip", "link", "set", "v0", "up"], ["ip", "link", "set", "v1", "up"]):
            p = await asyncio.to_thread(_in_node, node.pid, *cmd)
            assert p.returncode == 0, p.stderr
        out = await _client(node.pid, tmp_path, "maintenance", cfg)
        assert out["version"]
        assert out["servicelist"][0] == "PERMISSION_DENIED"
        assert "maintenance mode" in out["servicelist"][1]
        assert "leaves maintenance mode" in out["apply"]
        # the node reboots in place and boots with the config; apid serves :50000 (mTLS)
        async with grpc.aio.insecure_channel(f"unix:{node.socket}") as ch:
            api = machine_pb2_grpc.MachineServiceStub(ch)
            while True:
                try:
                    services = (await api.ServiceList(empty_pb2.Empty(), timeout=5)
                                ).messages[0].services
                except grpc.aio.AioRpcError:
                    services = []
                apid = [s for s in services if s.id == "apid"]
                if apid and apid[0].state == "Running" and apid[0].health.healthy:
                    break
                await asyncio.sleep(0.2)
        out = await _client(node.pid, tmp_path, "mtls", tc)
        assert out["version"]
        assert (tmp_path / "node" / "state" / "config.yaml").read_text() == gen.controlplane
        # through apid: a hostname change without a reboot reaches the node's UTS namespace
        renamed = tmp_path / "renamed.yaml"
        renamed.write_text(gen.controlplane.replace(
            "    network: {}\n", "    network:\n        hostname: renamed-node\n"))
        assert "renamed-node" in renamed.read_text()
        out = await _client(node.pid, tmp_path, "mtls", tc, str(renamed))
        assert out["apply"].startswith("Applied configuration without a reboot")
        while True:
            p = await asyncio.to_thread(subprocess.run, ["nsenter", "-t", str(node.pid),
                                                         "--uts", "hostname"],
                                        capture_output=True, text=True)
            if p.stdout.strip() == "renamed-node":
                break
            await asyncio.sleep(0.05)
        # reset through apid, wiping STATE: back in maintenance mode on the same port
        out = await _client(node.pid, tmp_path, "mtls-reset", tc)
        assert out["reset"]
        out = await _client(node.pid, tmp_path, "maintenance-version", cfg)
        assert out["version"]
    finally:
        await asyncio.to_thread(node.destroy)
