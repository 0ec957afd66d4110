"""etcd members managed by real EtcdManagers and supervisors (one per "node"), each on its own
loopback address, without the rest of machined. Every etcd started is stopped by pid."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from talos.machined.etcd.manager import SERVICE_ID, EtcdManager
from talos.machined.etcd.settings import EtcdSettings
from talos.machined.paths import NodePaths
from talos.machined.system.reaper import Reaper
from talos.machined.system.supervisor import ServiceRunner, Supervisor
from talos.machinery.pki import CertificateAuthority
from tests.leftovers import nothing_left_async

needs_etcd = pytest.mark.requires("etcd", "etcdctl")


def unique_subnet() -> str:
    """A 127.a.b.0 prefix nobody else in this test run uses (addresses per test)."""
    return f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"


@dataclass
class EtcdNode:
    name: str
    address: str
    manager: EtcdManager
    supervisor: Supervisor
    task: asyncio.Task[None]

    @property
    def runner(self) -> ServiceRunner:
        return self.supervisor.get(SERVICE_ID)

    async def wait_up(self) -> None:
        """Until etcd is running and healthy; fails (instead of hanging) if the service's
        lifecycle ends first."""
        await self.runner.wait_for(lambda r: r.is_up() or not r.active)
        assert self.runner.is_up(), [e.message for e in self.runner.events]

    def start(self) -> None:
        self.supervisor.start(SERVICE_ID)

    async def stop(self) -> None:
        await self.supervisor.stop(SERVICE_ID)


@asynccontextmanager
async def etcd_nodes(tmp: Path, count: int, *, ca: CertificateAuthority | None = None
                     ) -> AsyncIterator[list[EtcdNode]]:
    ca = ca or CertificateAuthority.generate(organization="etcd")
    prefix = unique_subnet()
    first = f"{prefix}.1"
    reaper = Reaper(reap_all=False)
    loop = asyncio.get_running_loop()
    nodes: list[EtcdNode] = []
    try:
        # the check runs before the last-resort kill below, so a member that outlives its
        # supervisor fails the test instead of being tidied away silently
        async with nothing_left_async(tmp, what="etcd members"):
            with reaper.installed(loop):
                try:
                    for i in range(1, count + 1):
                        addr = f"{prefix}.{i}"
                        settings = EtcdSettings(name=f"cp-{i}", address=addr, ca=ca.to_pem(),
                                                cluster_token="test",
                                                join_peers=() if addr == first else (first,))
                        sup = Supervisor(reaper)
                        task = asyncio.create_task(sup.run())
                        await sup.ready()
                        root = tmp / f"cp-{i}"
                        mgr = EtcdManager(NodePaths(str(root)), sup, control_plane=True,
                                          settings=settings)
                        sup.register(mgr.service_spec())
                        nodes.append(EtcdNode(f"cp-{i}", addr, mgr, sup, task))
                    yield nodes
                finally:
                    for n in nodes:
                        try:
                            await n.supervisor.stop_all()
                        finally:
                            n.task.cancel()
                            with contextlib.suppress(asyncio.CancelledError):
                                await n.task
    finally:
        # whatever happened above: no etcd of this test survives it, none stays a zombie
        for proc in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if str(tmp) in " ".join(proc.cmdline()):
                    proc.kill()
                    with contextlib.suppress(ChildProcessError):
                        await asyncio.to_thread(os.waitpid, proc.pid, 0)
