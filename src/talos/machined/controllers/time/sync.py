"""time.SyncController: is the node's clock in sync with its configured time servers?

Each pass queries the servers of `TimeServerStatus` in order (SNTP, first answer wins) and
publishes `TimeStatus` (id `node`): synced when the offset is within `MAX_OFFSET`. A sandbox
shares the host kernel's clock, so nothing is stepped: the status reports what was observed.
With `machine.time.disabled`, or no server named, sync is disabled and the node trusts the
host's clock (synced, syncDisabled). Re-checked every `POLL` seconds and on config changes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.config_tree import at, v1alpha1
from talos.machined.ntp import Sample
from talos.machinery.errors import TalosError
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import TIME_SERVER_STATUS
from talos.machinery.resources.v1alpha1 import TIME_STATUS, TimeStatusSpec

log = logging.getLogger(__name__)

ID = "node"
POLL = 64.0
MAX_OFFSET_NS = 1_000_000_000

Query = Callable[[str], Awaitable[Sample]]


class SyncController:
    name = "time.SyncController"
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID),
                                 Input.of(TIME_SERVER_STATUS, id="timeservers"))
    outputs: tuple[Output, ...] = (Output.of(TIME_STATUS),)

    def __init__(self, query: Query, poll: float = POLL) -> None:
        self.query = query
        self.poll = poll
        self.last: Sample | None = None

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            cfg = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
            ts = await r.get(TIME_SERVER_STATUS.default_namespace, TIME_SERVER_STATUS.type,
                             "timeservers")
            servers = ts.spec.time_servers if ts is not None else ()
            disabled = bool(at(v1alpha1(cfg), "machine.time.disabled"))
            if disabled or not servers:
                spec = TimeStatusSpec(synced=True, sync_disabled=True)
            else:
                spec = TimeStatusSpec(synced=await self._synced(servers))
                r.requeue_after(self.poll)
            await r.put(TIME_STATUS.default_namespace, TIME_STATUS.type, ID, spec)

    async def _synced(self, servers: tuple[str, ...]) -> bool:
        for server in servers:
            try:
                sample = await self.query(server)
            except TalosError as exc:
                log.warning("time sync: %s", exc)
                continue
            self.last = sample
            return abs(sample.offset_ns) <= MAX_OFFSET_NS
        return False
