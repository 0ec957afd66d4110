"""cluster.DiscoveryServiceController: while the service registry is enabled with an
endpoint, run a `DiscoveryClient` that pushes the local affiliate (sealed with the cluster
key) and publishes every other node the service reports as an Affiliate (id = its node id,
merged per node id). Disabled or reconfigured: the client stops and those Affiliates go.
"""

from __future__ import annotations

import asyncio
import contextlib

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output, OutputKind
from talos.machined.controllers.cluster.client import DiscoveryClient
from talos.machined.controllers.cluster.merge import merge
from talos.machinery.resources.cluster import (
    AFFILIATE,
    DISCOVERY_CONFIG,
    DISCOVERY_CONFIG_ID,
    IDENTITY,
    LOCAL_IDENTITY,
)
from talos.machinery.resources.runtime import MACHINE_STATUS

MACHINE_STATUS_ID = "machine"


class DiscoveryServiceController:
    name = "cluster.DiscoveryServiceController"
    inputs: tuple[Input, ...] = (
        Input.of(DISCOVERY_CONFIG, id=DISCOVERY_CONFIG_ID),
        Input.of(IDENTITY, id=LOCAL_IDENTITY),
        Input.of(AFFILIATE),
        Input.of(MACHINE_STATUS, id=MACHINE_STATUS_ID),
    )
    outputs: tuple[Output, ...] = (Output(AFFILIATE.type, OutputKind.SHARED),)

    async def run(self, r: ControllerContext) -> None:
        client: DiscoveryClient | None = None
        task: asyncio.Task[None] | None = None
        settings: tuple[object, ...] | None = None
        ns = AFFILIATE.default_namespace
        async with asyncio.TaskGroup() as tg:
            try:
                async for _ in r.wake_ups():
                    cfg = await r.get(DISCOVERY_CONFIG.default_namespace,
                                      DISCOVERY_CONFIG.type, DISCOVERY_CONFIG_ID)
                    identity = await r.get(IDENTITY.default_namespace, IDENTITY.type,
                                           LOCAL_IDENTITY)
                    want: tuple[object, ...] | None = None
                    if (cfg is not None and cfg.spec.registry_service_enabled
                            and cfg.spec.service_endpoint and identity is not None):
                        s = cfg.spec
                        want = (s.service_endpoint, s.service_endpoint_insecure,
                                s.service_encryption_key, s.service_cluster_id,
                                identity.spec.node_id)
                    if want != settings:
                        if task is not None:
                            task.cancel()
                            with contextlib.suppress(asyncio.CancelledError):
                                await task
                        client = task = None
                        settings = want
                        if want is not None and cfg is not None and identity is not None:
                            client = DiscoveryClient(
                                cfg.spec.service_endpoint, cfg.spec.service_endpoint_insecure,
                                cfg.spec.service_encryption_key, cfg.spec.service_cluster_id,
                                identity.spec.node_id, on_change=r.wake)
                            task = tg.create_task(client.run())
                    r.start_tracking_outputs()
                    if client is not None:
                        status = await r.get(MACHINE_STATUS.default_namespace,
                                             MACHINE_STATUS.type, MACHINE_STATUS_ID)
                        local = await r.get(ns, AFFILIATE.type, client.affiliate_id)
                        if status is not None and status.spec.stage == "resetting":
                            client.delete_local()
                        elif local is not None:
                            client.set_local(local.spec)
                        for node_id, spec in sorted(merge(client.affiliates()).items()):
                            if node_id != client.affiliate_id:
                                await r.put(ns, AFFILIATE.type, node_id, spec)
                    await r.cleanup_outputs()
            finally:
                if task is not None:
                    task.cancel()
