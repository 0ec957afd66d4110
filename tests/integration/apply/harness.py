"""A plain-mode machined (`--root`) for apply tests: started, restarted, killed by pid."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2 as m
from talos.api.machine import machine_pb2_grpc
from talos.api.v1alpha1 import state_pb2, state_pb2_grpc
from talos.machinery.client.connection import ConnectionOptions, connect
from talos.machinery.pki import CertificateAuthority
from tests.leftovers import nothing_left_async

CONFIG = """version: v1alpha1
machine:
  type: worker
  token: abcdef.0123456789abcdef
  network:
    hostname: {hostname}
cluster:
  clusterName: test
  controlPlane:
    endpoint: https://127.0.0.1:6443
"""


_CA = CertificateAuthority.generate(organization="talos").to_pem()


def config(hostname: str = "node-1", *, machine_type: str = "worker", extra: str = "") -> bytes:
    """A valid config: the OS CA (its key on a control plane only) and the HostDNS features
    container mode requires, as generated configs have them."""
    key = f"    key: {base64.b64encode(_CA.key).decode()}\n" \
        if machine_type in ("controlplane", "init") else ""
    machine = (f"  type: {machine_type}\n  ca:\n    crt: {base64.b64encode(_CA.crt).decode()}\n"
               f"{key}  features:\n    hostDNS:\n      enabled: true\n"
               "      forwardKubeDNSToHost: true\n")
    text = CONFIG.format(hostname=hostname).replace("  type: worker\n", machine)
    return (text + extra).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Machined:
    root: Path
    seed: bytes | None = None
    maintenance_port: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)
    channel: grpc.aio.Channel | None = None

    def __post_init__(self) -> None:
        self.log_path = self.root.parent / f"{self.root.name}.log"

    @property
    def socket(self) -> Path:
        return self.root / "system/run/machined/machine.sock"

    @property
    def state(self) -> Path:
        return self.root / "system/state"

    def argv(self) -> list[str]:
        argv = [sys.executable, "-m", "talos", "machined", "--root", str(self.root)]
        if self.seed is not None:
            seed = self.root.parent / f"{self.root.name}-seed.yaml"
            seed.write_bytes(self.seed)
            argv += ["--config", str(seed)]
        if self.maintenance_port is not None:
            argv += ["--maintenance-listen", f"127.0.0.1:{self.maintenance_port}"]
        return argv

    async def start(self) -> None:
        with contextlib_suppress():
            self.socket.unlink()
        log = self.log_path.open("ab")
        try:
            self.proc = await asyncio.to_thread(subprocess.Popen, self.argv(), stdout=log,
                                                stderr=log)
        finally:
            log.close()
        await self.wait_socket()

    async def wait_socket(self) -> None:
        """Wait until the API on the unix socket answers (also after an in-place reboot)."""
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"machined exited {self.proc.returncode}:\n{self.log()}")
            if self.socket.exists():
                await self.close_channel()
                self.channel = grpc.aio.insecure_channel(f"unix:{self.socket}")
                try:
                    await self.api.Version(empty_pb2.Empty(), timeout=2)
                    return
                except grpc.aio.AioRpcError:
                    pass
            await asyncio.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def api(self) -> machine_pb2_grpc.MachineServiceStub:
        assert self.channel is not None
        return machine_pb2_grpc.MachineServiceStub(self.channel)

    @property
    def cosi(self) -> state_pb2_grpc.StateStub:
        assert self.channel is not None
        return state_pb2_grpc.StateStub(self.channel)  # type: ignore[no-untyped-call]

    async def close_channel(self) -> None:
        if self.channel is not None:
            await self.channel.close()
            self.channel = None

    async def apply(self, data: bytes, mode: int, **kw: Any) -> m.ApplyConfiguration:
        resp = await self.api.ApplyConfiguration(m.ApplyConfigurationRequest(
            data=data, mode=mode, **kw), timeout=30)  # type: ignore[arg-type]
        return resp.messages[0]

    async def resource_text(self, ns: str, rtype: str, rid: str) -> str | None:
        try:
            r = await self.cosi.Get(state_pb2.GetRequest(namespace=ns, type=rtype, id=rid),
                                    timeout=5)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        return str(r.resource.spec.yaml_spec)

    async def wait_resource(self, ns: str, rtype: str, rid: str, needle: str) -> str:
        """Poll until the resource's YAML contains `needle` (controllers converge async)."""
        while True:
            text = await self.resource_text(ns, rtype, rid)
            if text is not None and needle in text:
                return text
            await asyncio.sleep(0.05)

    async def wait_stage(self, stage: str) -> None:
        await self.wait_resource("runtime", "MachineStatuses.runtime.talos.dev", "machine",
                                 f"stage: {stage}")

    async def wait_reboot(self, old_pid_reboots: int) -> None:
        """After an in-place reboot (re-exec, same pid) the log says so."""
        needle = f"reboot #{old_pid_reboots + 1})"
        while needle not in self.log():
            assert self.proc is not None and self.proc.poll() is None, self.log()
            await asyncio.sleep(0.05)
        await self.wait_socket()

    def reboots(self) -> int:
        return self.log().count("re-executed in place")

    async def stop(self) -> None:
        await self.close_channel()
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.to_thread(self.proc.wait), 30)
            except TimeoutError:
                self.proc.kill()
                await asyncio.to_thread(self.proc.wait)

    async def kill(self) -> None:
        await self.close_channel()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait)


def contextlib_suppress() -> Any:
    import contextlib
    return contextlib.suppress(FileNotFoundError)


@asynccontextmanager
async def machined(tmp: Path, *, seed: bytes | None = None, maintenance: bool = False,
                   name: str = "node") -> AsyncIterator[Machined]:
    node = Machined(tmp / name, seed=seed,
                    maintenance_port=free_port() if maintenance else None)
    async with nothing_left_async(tmp / name, what=f"machined {name}"):
        try:
            await node.start()
            yield node
        finally:
            await node.stop()


@asynccontextmanager
async def insecure(port: int) -> AsyncIterator[grpc.aio.Channel]:
    """A maintenance-mode (`--insecure`) connection: server TLS, no client certificate."""
    conn = await connect(ConnectionOptions((f"127.0.0.1:{port}",), insecure=True, port=port))
    try:
        yield conn.channel
    finally:
        await conn.close()
