"""block.VolumeStatusController: the node's STATE and EPHEMERAL volumes (`get volumestatus`).

A node here keeps STATE and EPHEMERAL in directories (in a sandbox, per-node directories of
the host bound at /system/state and /var; in plain mode directories under `--root`), not in
partitions of its own disk, so they are published honestly as volumes of type `directory`:
`ready` when the directory exists (else `missing`), `location` the directory as this node
sees it, `mountSpec.targetPath` where Talos mounts that volume. No size: a directory has
none of its own. Re-checked every `POLL` seconds.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machinery import constants
from talos.machinery.resources.block import VOLUME_STATUS, MountSpec, VolumeStatusSpec

POLL = 30.0


def volume_spec(directory: str, target: str) -> VolumeStatusSpec:
    return VolumeStatusSpec(
        phase="ready" if os.path.isdir(directory) else "missing", type="directory",
        location=directory, mount_location=directory,
        mount_spec=MountSpec(target_path=target))


class VolumeStatusController:
    name = "block.VolumeManagerController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(VOLUME_STATUS),)

    def __init__(self, volumes: Mapping[str, str], poll: float = POLL) -> None:
        #: volume id (`STATE`, `EPHEMERAL`) -> directory holding it
        self.volumes = dict(volumes)
        self.poll = poll

    async def run(self, r: ControllerContext) -> None:
        ns, rtype = VOLUME_STATUS.default_namespace, VOLUME_STATUS.type
        targets = {"STATE": constants.STATE_MOUNT, "EPHEMERAL": constants.EPHEMERAL_MOUNT}
        async for _ in r.wake_ups():
            specs = await asyncio.to_thread(
                lambda: {v: volume_spec(d, targets.get(v, d)) for v, d in self.volumes.items()})
            for vid, spec in specs.items():
                await r.put(ns, rtype, vid, spec)
            r.requeue_after(self.poll)
