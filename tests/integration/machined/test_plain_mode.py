"""machined as a plain process with --root (no namespaces, no root needed)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from ruamel.yaml import YAML

from talos.api.machine import machine_pb2 as m
from talos.api.machine import machine_pb2_grpc
from talos.machinery.config.generate import GenerateOptions, generate
from tests.integration.etcd.harness import unique_subnet
from tests.leftovers import Proc, alive, descendants, nothing_left_async

from .node import CONFIG, ext


@contextlib.asynccontextmanager
async def _plain_machined(tmp_path: Path, config: bytes) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`machined --root tmp_path/root` with `config`, once its socket answers; killed (if
    still running) on exit. Its output goes to tmp_path/machined.log."""
    root = tmp_path / "root"
    cfg = tmp_path / "config.yaml"
    cfg.write_bytes(config)
    async with nothing_left_async(tmp_path, what="plain-mode machined"):
        log = (tmp_path / "machined.log").open("wb")
        proc = await asyncio.to_thread(
            subprocess.Popen, [sys.executable, "-m", "talos", "machined", "--root",
                               str(root), "--config", str(cfg)], stdout=log, stderr=log)
        sock = root / "system/run/machined/machine.sock"
        try:
            while not sock.exists():
                assert proc.poll() is None, (tmp_path / "machined.log").read_text()
                await asyncio.sleep(0.02)
            # the socket file exists from the bind; gRPC listens a moment later
            async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
                await asyncio.wait_for(ch.channel_ready(), 60)
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                await asyncio.to_thread(proc.wait)
            log.close()


async def test_plain_mode_serves_under_root_and_stops_on_sigterm(tmp_path):
    root = tmp_path / "root"
    async with _plain_machined(tmp_path, CONFIG % b"plain-node") as proc:
        sock = root / "system/run/machined/machine.sock"
        async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
            api = machine_pb2_grpc.MachineServiceStub(ch)
            host = await api.Hostname(empty_pb2.Empty())
            assert host.messages[0].hostname == "plain-node"
            # node paths are confined to the root directory
            (root / "var" / "hello.txt").write_text("hi")
            data = b"".join([d.bytes async for d in api.Read(
                m.ReadRequest(path="/var/hello.txt"))])
            assert data == b"hi"
            assert oct(sock.stat().st_mode & 0o777) == "0o600"
        os.kill(proc.pid, signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 60) == 0
        assert "powered off" in (tmp_path / "machined.log").read_text()


async def test_invalid_config_is_reported_and_machined_keeps_serving(tmp_path):
    async with _plain_machined(
            tmp_path, b"version: v1alpha1\nmachine:\n  type: bogus\ncluster: {}\n") as proc:
        sock = tmp_path / "root/system/run/machined/machine.sock"
        async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
            api = machine_pb2_grpc.MachineServiceStub(ch)
            errors = []
            call = api.Events(m.EventsRequest(tail_events=-1))
            async for ev in call:
                if ev.data.type_url.endswith("machine.SequenceEvent"):
                    msg = m.SequenceEvent()
                    msg.ParseFromString(ev.data.value)
                    if msg.sequence == "initialize" and msg.action == m.SequenceEvent.STOP:
                        errors.append(msg.error.message)
                        break
            call.cancel()
            assert 'machine.type: invalid value "bogus"' in errors[0]
            # PID 1 keeps serving, and does not boot
            assert (await api.Version(empty_pb2.Empty())).messages
            services = (await api.ServiceList(empty_pb2.Empty())).messages[0].services
            assert [s.id for s in services] == ["machined"]
        os.kill(proc.pid, signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 60) == 0


async def test_plain_mode_api_socket_is_private_from_the_moment_it_exists(tmp_path):
    # The socket's directory is 0700 before the bind, so nobody but root can reach the
    # socket whatever its own mode between the bind and the chmod; checking the directory
    # once the socket appears is therefore race-free (the mode never changes afterwards).
    # An older layout's 0755 directory is made private too. (The
    # socket's own 0600 comes after the bind: another test checks it after a call.)
    sock_dir = tmp_path / "root/system/run/machined"
    sock_dir.mkdir(parents=True)
    sock_dir.chmod(0o755)
    async with _plain_machined(tmp_path, CONFIG % b"private-socket"):
        assert oct(sock_dir.stat().st_mode & 0o777) == "0o700"


def _etcd_config(hostname: str, address: str) -> bytes:
    """A generated control-plane config whose etcd advertises `address` (a loopback)."""
    configs = generate(GenerateOptions(cluster_name="orphans",
                                       endpoint=f"https://{address}:6443"))
    yaml = YAML()
    docs = list(yaml.load_all(configs.controlplane))
    docs[0]["machine"].setdefault("network", {})["hostname"] = hostname
    docs[0]["cluster"].setdefault("etcd", {})["advertisedSubnets"] = [f"{address}/32"]
    out = io.StringIO()
    yaml.dump_all(docs, out)
    return out.getvalue().encode()


def _program(p: Proc) -> str:
    return os.path.basename(p.cmdline.split(" ", 1)[0])


@pytest.mark.requires("etcd", "containerd")
async def test_services_and_their_children_die_with_a_sigkilled_plain_machined(tmp_path):
    # containerd, etcd (exec'd by its shim after Bootstrap) and an extension service with
    # a child of its own: after SIGKILL of machined, no descendant it had may survive
    ext_dir = tmp_path / "root/system/state/extensions"
    ext_dir.mkdir(parents=True)
    for name, text in ext("forker", "import subprocess, time\n"
                                    "subprocess.Popen(['sleep', '1000'])\n"
                                    "time.sleep(1000)").items():
        (ext_dir / f"{name}.yaml").write_text(text)
    cfg = _etcd_config("orphans", f"{unique_subnet()}.1")
    had: list[Proc] = []
    try:
        async with _plain_machined(tmp_path, cfg) as proc:
            sock = tmp_path / "root/system/run/machined/machine.sock"
            async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
                await machine_pb2_grpc.MachineServiceStub(ch).Bootstrap(
                    m.BootstrapRequest())
            wanted = {"containerd", "etcd", "sleep"}
            while not wanted <= {_program(p) for p in descendants(proc.pid)}:
                assert proc.poll() is None, (tmp_path / "machined.log").read_text()
                await asyncio.sleep(0.1)
            had = descendants(proc.pid)
            proc.kill()
            await asyncio.to_thread(proc.wait)
            # they die asynchronously: wait (bounded) for the last one to go
            for _ in range(300):
                if not any(alive(p) for p in had):
                    break
                await asyncio.sleep(0.1)
            survivors = [p.describe() for p in had if alive(p)]
            assert not survivors, f"outlived machined: {survivors}"
    finally:
        for p in had:  # never leave them behind, even when the test fails
            if alive(p):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGKILL)
