"""Upgrades and rollback through the API: MachineService Upgrade/Rollback and
LifecycleService Upgrade (Install: upstream's refusals on a sandbox node and on an installed
machine; on a machine in maintenance mode UNIMPLEMENTED, it installs through its config).

The node pulls the installer image through its containerd (images.pull: the config's
registry mirrors apply), then `talos.machined.upgrade.apply` writes the inactive boot slot
and switches (or stages) it. Every check runs inside the call, before the node changes, and
fails it with its own code: a bad reference (NOT_FOUND / FAILED_PRECONDITION from the
pull), a digest mismatch (DATA_LOSS), too little room (RESOURCE_EXHAUSTED), the only
known-good slot or an etcd cluster that would lose quorum (FAILED_PRECONDITION).

- MachineService.Upgrade (upstream v1.13.9's "legacy" API): on a control plane, the etcd
  upgrade mutex (`talos:v1:etcdUpgradeMutex`, etcd.mutex) is taken and the etcd check runs
  as upstream's ValidateForUpgrade (`force` or `preserve` skip both, as upstream; workers
  take neither). Upstream holds the mutex for its API call, i.e. around the check; here
  the call also writes the slot, so the mutex is held until the slot is written and two
  control planes upgraded at once cannot both pass the check (the second answers
  FAILED_PRECONDITION "failed to acquire upgrade mutex: ..."). Then the reboot through the
  node's reboot sequence. `stage` reboots too, as upstream's StageUpgrade sequence does
  (upstream stages because its installer cannot write a disk in use; here the inactive
  slot is never in use, so the slot is written before the reboot and recorded as staged:
  the reboot right after boots it on trial). Unlike upstream,
  which acknowledges and then pulls and writes in the background, the reply comes after
  the slot is written, so a failure is the call's error instead of a line in the node's
  log.
- LifecycleService.Upgrade (upstream's new API; talosctl reboots afterwards): progress lines
  then exit code 0; the etcd mutex and check run on a control plane too (upstream has
  neither here; `talosctl upgrade --force` uses MachineService.Upgrade to skip them).
- MachineService.Rollback: the previous slot becomes the default, then the node reboots.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import grpc

from talos.api.common import common_pb2
from talos.api.machine import lifecycle_pb2, lifecycle_pb2_grpc
from talos.api.machine import machine_pb2 as m
from talos.machined.etcd.mutex import upgrade_mutex
from talos.machined.platform import metal
from talos.machined.sequencer import sequences
from talos.machined.server import images
from talos.machined.server.context import NodeAPI
from talos.machined.services.containerd import socket_path
from talos.machined.upgrade import apply, detect
from talos.machined.upgrade.installer import ContentStore
from talos.machinery.errors import FailedPrecondition, InvalidArgument, TalosError

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
log = logging.getLogger("talos.machined.upgrade")

#: seconds for each etcd member's health read (upstream's QuorumCheckTimeout is 15 s)
QUORUM_CHECK_TIMEOUT = 15.0
_lock: asyncio.Lock | None = None


def _upgrade_lock() -> asyncio.Lock:
    global _lock
    if _lock is None:
        _lock = asyncio.Lock()
    return _lock


def _control_plane(node: NodeAPI) -> bool:
    cfg = node.config()
    return cfg is not None and cfg.machine_type in ("controlplane", "init")


async def validate_etcd_for_upgrade(node: NodeAPI) -> None:
    """Upstream's ValidateForUpgrade: a worker passes; a control plane needs an etcd
    cluster that keeps quorum without this member: not exactly two members, every member
    started and answering a quorum read."""
    if not _control_plane(node):
        return
    if node.etcd is None:
        raise FailedPrecondition("etcd is not set up on this control plane yet: cannot "
                                 "check quorum for the upgrade (use --force to skip)")
    members = await node.etcd.members()
    if len(members) == 2:
        raise FailedPrecondition(f"etcd member count({len(members)}) is insufficient to "
                                 "maintain quorum if upgrade commences")
    for member in members:
        if not member.name:
            raise FailedPrecondition(f"etcd member {member.id:016x} is not started, all "
                                     "members must be running to perform an upgrade")
        endpoints = [u.split("://", 1)[-1] for u in member.client_urls]
        try:
            async with await node.etcd.client(endpoints) as c:
                c.timeout = QUORUM_CHECK_TIMEOUT
                await c.health()
        except TalosError as e:
            raise FailedPrecondition(f"etcd member {member.id:016x} is not healthy; all "
                                     "members must be healthy to perform an upgrade: "
                                     f"{e}") from None


@contextlib.asynccontextmanager
async def _upgrade_mutex(node: NodeAPI, progress: apply.Progress) -> AsyncIterator[None]:
    """Upstream's etcd upgrade mutex, through the local member: one control plane of the
    cluster at a time passes the quorum check and writes its slot (another one answers
    FAILED_PRECONDITION "failed to acquire upgrade mutex: ...")."""
    if node.etcd is None:
        raise FailedPrecondition("etcd is not set up on this control plane yet: cannot "
                                 "check quorum for the upgrade (use --force to skip)")
    progress("locking the etcd upgrade mutex")
    async with await node.etcd.client() as client, upgrade_mutex(client):
        yield


async def run_upgrade(node: NodeAPI, ref: str, ns: str, *, stage: bool, check_etcd: bool,
                      progress: apply.Progress) -> apply.Result:
    if not ref.strip():
        raise InvalidArgument("image: empty (expected an installer image reference)")
    target = detect.require(node.sandbox)
    lock = _upgrade_lock()
    if lock.locked():
        raise FailedPrecondition("another upgrade is already in progress on this node")
    async with lock:
        progress(f"pulling {ref}")
        pulled = await images.pull(node, ns, ref)
        guard = (_upgrade_mutex(node, progress) if check_etcd and _control_plane(node)
                 else contextlib.nullcontext())
        async with guard:
            if check_etcd:
                progress("checking etcd")
                await validate_etcd_for_upgrade(node)
            store = ContentStore(socket_path(node.paths), ns)
            tmp = os.path.join(node.paths.ephemeral, "tmp")
            result = await apply.upgrade(target, store, pulled.name, tmp, stage=stage,
                                         progress=progress)
    prev = result.previous.tag if result.previous else "?"
    log.info("upgrade: %s -> %s written to boot slot %s%s", prev, result.installed.tag,
             result.slot, " (staged: the reboot now boots it)" if stage else "")
    return result


class UpgradeMethods:
    """MachineService Upgrade and Rollback, mixed into MachineServicer."""

    node: NodeAPI

    async def Upgrade(self, request: m.UpgradeRequest, context: Ctx) -> m.UpgradeResponse:
        mode = int(request.reboot_mode)
        if mode not in m.UpgradeRequest.RebootMode.values():
            raise InvalidArgument(f"reboot_mode: unknown value {mode} (expected DEFAULT or "
                                  "POWERCYCLE)")
        # POWERCYCLE bypasses kexec; these nodes have none: the same reboot as DEFAULT
        log.info("upgrade request received: staged %s, force %s, reboot mode %s",
                 request.stage, request.force, m.UpgradeRequest.RebootMode.Name(mode))
        await run_upgrade(self.node, request.image, images.SYSTEM_NAMESPACE,
                          stage=request.stage,
                          check_etcd=not (request.force or request.preserve),
                          progress=lambda line: log.info("upgrade: %s", line))
        actor = str(uuid.uuid4())
        self.node.sequencer.submit(sequences.reboot(self.node))
        return m.UpgradeResponse(messages=[m.Upgrade(
            metadata=common_pb2.Metadata(hostname=self.node.hostname),
            ack="Upgrade request received", actor_id=actor)])

    async def Rollback(self, request: m.RollbackRequest, context: Ctx) -> m.RollbackResponse:
        target = detect.require(self.node.sandbox)
        async with _upgrade_lock():
            image = await asyncio.to_thread(target.rollback)
        log.info("rollback: the next boot is %s; rebooting", image.tag)
        self.node.sequencer.submit(sequences.reboot(self.node))
        return m.RollbackResponse(messages=[m.Rollback(
            metadata=common_pb2.Metadata(hostname=self.node.hostname))])


def _progress(text: str = "", exit_code: int | None = None
              ) -> lifecycle_pb2.LifecycleServiceInstallProgress:
    if exit_code is not None:
        return lifecycle_pb2.LifecycleServiceInstallProgress(exit_code=exit_code)
    return lifecycle_pb2.LifecycleServiceInstallProgress(message=text)


class LifecycleServicer(lifecycle_pb2_grpc.LifecycleServiceServicer):
    """machine.LifecycleService: replies carry no metadata (apid proxies it to one node)."""

    def __init__(self, node: NodeAPI) -> None:
        self.node = node

    async def Upgrade(self, request: lifecycle_pb2.LifecycleServiceUpgradeRequest,
                      context: Ctx
                      ) -> AsyncIterator[lifecycle_pb2.LifecycleServiceUpgradeResponse]:
        ns = (images.instance_namespace(request.containerd)
              if request.HasField("containerd") and request.containerd.namespace
              else images.SYSTEM_NAMESPACE)
        lines: asyncio.Queue[str] = asyncio.Queue()
        job = asyncio.ensure_future(run_upgrade(
            self.node, request.source.image_name, ns, stage=False,
            check_etcd=True, progress=lines.put_nowait))
        try:
            while not job.done() or not lines.empty():
                getter = asyncio.ensure_future(lines.get())
                await asyncio.wait({getter, job}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    yield lifecycle_pb2.LifecycleServiceUpgradeResponse(
                        progress=_progress(getter.result()))
                else:
                    getter.cancel()
            job.result()  # a failure ends the stream with its code
        finally:
            if not job.done():
                job.cancel()
        yield lifecycle_pb2.LifecycleServiceUpgradeResponse(progress=_progress(exit_code=0))

    async def Install(self, request: lifecycle_pb2.LifecycleServiceInstallRequest,
                      context: Ctx
                      ) -> AsyncIterator[lifecycle_pb2.LifecycleServiceInstallResponse]:
        # upstream v1.13.9 (internal/app/lifecycle): a container cannot be installed, an
        # installed machine is not installed again
        if not metal.active():
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                "installation is not supported in container mode")
        if metal.installed():
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, "machine is already installed")
        await context.abort(grpc.StatusCode.UNIMPLEMENTED,
                            "LifecycleService.Install is not implemented on this node yet: "
                            "a machine in maintenance mode installs itself to "
                            "machine.install.disk when a config naming it is applied "
                            "(talosctl apply-config --insecure)")
        yield lifecycle_pb2.LifecycleServiceInstallResponse()  # not reached
