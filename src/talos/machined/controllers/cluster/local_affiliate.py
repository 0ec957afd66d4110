"""cluster.LocalAffiliateController: this node as an affiliate (`Affiliates.cluster.talos.dev`,
id = its Identity's node id) from HostnameStatus, NodeAddress (routed), MachineType and the
version; only while discovery is enabled, as in Talos. The nodename (the Member's id) is the
hostname: there is no kubelet here to name the node otherwise.
"""

from __future__ import annotations

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output, OutputKind
from talos.machinery import version
from talos.machinery.resources.cluster import (
    AFFILIATE,
    DISCOVERY_CONFIG,
    DISCOVERY_CONFIG_ID,
    IDENTITY,
    LOCAL_IDENTITY,
    AffiliateSpec,
    ControlPlaneSpec,
)
from talos.machinery.resources.config import MACHINE_TYPE, MACHINE_TYPE_ID
from talos.machinery.resources.network import HOSTNAME_STATUS, NODE_ADDRESS

HOSTNAME_ID = "hostname"
ADDRESSES_ID = "routed"
API_SERVER_PORT = 6443


def operating_system() -> str:
    return f"{version.NAME} ({version.TAG})"


class LocalAffiliateController:
    name = "cluster.LocalAffiliateController"
    inputs: tuple[Input, ...] = (
        Input.of(DISCOVERY_CONFIG, id=DISCOVERY_CONFIG_ID),
        Input.of(IDENTITY, id=LOCAL_IDENTITY),
        Input.of(HOSTNAME_STATUS, id=HOSTNAME_ID),
        Input.of(NODE_ADDRESS, id=ADDRESSES_ID),
        Input.of(MACHINE_TYPE, id=MACHINE_TYPE_ID),
    )
    outputs: tuple[Output, ...] = (Output(AFFILIATE.type, OutputKind.SHARED),)

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            r.start_tracking_outputs()
            cfg = await r.get(DISCOVERY_CONFIG.default_namespace, DISCOVERY_CONFIG.type,
                              DISCOVERY_CONFIG_ID)
            identity = await r.get(IDENTITY.default_namespace, IDENTITY.type, LOCAL_IDENTITY)
            hostname = await r.get(HOSTNAME_STATUS.default_namespace, HOSTNAME_STATUS.type,
                                   HOSTNAME_ID)
            addresses = await r.get(NODE_ADDRESS.default_namespace, NODE_ADDRESS.type,
                                    ADDRESSES_ID)
            mtype = await r.get(MACHINE_TYPE.default_namespace, MACHINE_TYPE.type,
                                MACHINE_TYPE_ID)
            if (cfg is not None and cfg.spec.discovery_enabled and identity is not None
                    and hostname is not None and mtype is not None):
                machine_type = mtype.spec.machine_type
                spec = AffiliateSpec(
                    node_id=identity.spec.node_id,
                    addresses=tuple(a.split("/", 1)[0] for a in
                                    (addresses.spec.addresses if addresses else ())),
                    hostname=hostname.spec.hostname,
                    nodename=hostname.spec.hostname,
                    operating_system=operating_system(),
                    machine_type=machine_type,
                    control_plane=(ControlPlaneSpec(API_SERVER_PORT)
                                   if machine_type in ("controlplane", "init") else None))
                await r.put(AFFILIATE.default_namespace, AFFILIATE.type, spec.node_id, spec)
            await r.cleanup_outputs()
