"""run_upgrade (MachineService/LifecycleService Upgrade) takes the etcd upgrade mutex on a
control plane, around the quorum check and the slot write, against a real etcd member.

The installer pull and the slot write are stand-ins here (a node with boot slots, an
installer image and etcd is a whole image cluster: tests/image); they record when they ran
and whether the mutex was held then. Everything about etcd is real."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from talos.machined.etcd.client import EtcdClient
from talos.machined.etcd.mutex import upgrade_mutex
from talos.machined.paths import NodePaths
from talos.machined.server import images, upgrade
from talos.machined.server.context import NodeAPI
from talos.machined.upgrade import apply, detect
from talos.machinery.errors import FailedPrecondition
from tests.integration.etcd.harness import EtcdNode, etcd_nodes, needs_etcd

pytestmark = needs_etcd

LOCKED = ("failed to acquire upgrade mutex: error trying to lock etcd upgrade mutex: "
          "mutex: Locked by another session")


class Recorder:
    """Stand-ins for the pull and the slot write: the progress lines and, at the write,
    whether another session could have taken the upgrade mutex."""

    def __init__(self, client: EtcdClient, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = client
        self.lines: list[str] = []
        self.written: list[bool] = []  # per write: was the mutex held by someone?
        #: when set, a write waits for it (after setting `writing`)
        self.gate: asyncio.Event | None = None
        self.writing = asyncio.Event()
        monkeypatch.setattr(detect, "require", lambda sandbox: SimpleNamespace())
        monkeypatch.setattr(images, "pull", self.pull)
        monkeypatch.setattr(apply, "upgrade", self.write)

    async def pull(self, node: Any, ns: str, ref: str) -> Any:
        return SimpleNamespace(name=ref)

    async def write(self, target: Any, store: Any, name: str, tmp: str, *, stage: bool,
                    progress: apply.Progress) -> Any:
        progress("writing the slot")
        if self.gate is not None:
            self.writing.set()
            await self.gate.wait()
            self.gate = None
        try:
            async with upgrade_mutex(self.client):
                self.written.append(False)
        except FailedPrecondition:
            self.written.append(True)
        return SimpleNamespace(previous=None, installed=SimpleNamespace(tag="v2"), slot="B")

    async def run(self, node: NodeAPI, *, check_etcd: bool = True) -> None:
        self.lines.clear()
        await upgrade.run_upgrade(node, "installer:v2", "system", stage=False,
                                  check_etcd=check_etcd, progress=self.lines.append)


def fake_node(tmp: Path, etcd: EtcdNode | None, machine_type: str) -> NodeAPI:
    return cast(NodeAPI, SimpleNamespace(
        sandbox=True, paths=NodePaths(str(tmp / "node")),
        etcd=etcd.manager if etcd else None,
        config=lambda: SimpleNamespace(machine_type=machine_type)))


async def test_a_control_plane_upgrade_holds_the_etcd_mutex_until_its_slot_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with etcd_nodes(tmp_path, 1) as nodes:
        nodes[0].start()
        await nodes[0].manager.bootstrap(recover=False, skip_hash_check=False)
        await nodes[0].wait_up()
        async with await nodes[0].manager.client() as client:
            rec = Recorder(client, monkeypatch)
            cp = fake_node(tmp_path, nodes[0], "controlplane")

            # another control plane's upgrade holds the mutex: this one fails before its
            # quorum check and writes nothing
            async with upgrade_mutex(client):
                with pytest.raises(FailedPrecondition) as err:
                    await rec.run(cp)
                assert str(err.value) == LOCKED
                assert rec.lines == ["pulling installer:v2", "locking the etcd upgrade mutex"]
                assert rec.written == []

            # free: the check and the write run while this upgrade holds it; released after
            await rec.run(cp)
            assert rec.lines == ["pulling installer:v2", "locking the etcd upgrade mutex",
                                 "checking etcd", "writing the slot"]
            assert rec.written == [True]
            async with upgrade_mutex(client):
                pass

            # two control planes upgraded at once (each node has its own per-node lock):
            # while the first writes its slot, the second is refused
            monkeypatch.setattr(upgrade, "_upgrade_lock", asyncio.Lock)
            rec.gate = asyncio.Event()
            first = asyncio.create_task(rec.run(cp))
            try:
                await rec.writing.wait()
                with pytest.raises(FailedPrecondition) as err:
                    await upgrade.run_upgrade(
                        fake_node(tmp_path, nodes[0], "init"), "installer:v2", "system",
                        stage=False, check_etcd=True, progress=lambda line: None)
                assert str(err.value) == LOCKED
            finally:
                rec.gate.set()
                await first
            assert rec.written == [True, True]

            # --force/--preserve (no check) and workers take no mutex, as upstream
            async with upgrade_mutex(client):
                rec.written.clear()
                await rec.run(cp, check_etcd=False)
                assert rec.lines == ["pulling installer:v2", "writing the slot"]
                await rec.run(fake_node(tmp_path, None, "worker"))
                assert rec.lines == ["pulling installer:v2", "checking etcd",
                                     "writing the slot"]
                assert rec.written == [True, True]  # by the test's own session
            async with upgrade_mutex(client):  # every upgrade released it
                pass
