"""etcd.SpecController: hands the etcd service its settings whenever `EtcdConfig` (or the
machine config it is read with: CA, cluster name, join peer) changes.

The settings are the EtcdConfig resource plus the machine config; `apply` (the node's etcd
manager) restarts a running etcd when they differ from what it runs with, so a change of
`cluster.etcd.extraArgs` or `advertisedSubnets` applied without a reboot reaches the process.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.etcd import ETCD_CONFIG, ETCD_CONFIG_ID, EtcdConfigSpec

log = logging.getLogger(__name__)

#: called with the current EtcdConfig spec (None: absent); returns what it did
Apply = Callable[[EtcdConfigSpec | None], Awaitable[str]]


class SpecController:
    name = "etcd.SpecController"
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID),
                                 Input.of(ETCD_CONFIG, id=ETCD_CONFIG_ID))
    outputs: tuple[Output, ...] = ()

    def __init__(self, apply: Apply) -> None:
        self.apply = apply

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            cur = await r.get(ETCD_CONFIG.default_namespace, ETCD_CONFIG.type, ETCD_CONFIG_ID)
            done = await self.apply(cur.spec if cur is not None else None)
            if done:
                log.info("etcd service %s after an EtcdConfig change", done)
