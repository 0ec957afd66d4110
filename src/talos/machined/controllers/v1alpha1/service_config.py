"""v1alpha1.ServiceConfigController: what each config-built service (apid, trustd,
containerd) is built from, as one `ServiceConfigs` resource per service.

A service names the v1alpha1 paths its spec is built from (`SERVICE_PATHS`); the resource
holds a digest of each path's value in the running config (digests, never values: `machine.ca`
holds a key). `v1alpha1.ServiceLifecycleController` restarts a service whose resource no
longer matches what it runs with. etcd is not here: `etcd.SpecController` hands the etcd
manager the `EtcdConfig` resource (its member state needs the manager).

The type is machined's own (not declared for `talosctl get`; `talosctl inspect
dependencies` shows it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.config import NodeConfig
from talos.machined.controllers.config_tree import at, documents, v1alpha1
from talos.machined.system.service import ServiceSpec
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.definition import ResourceType

#: the node's identity: apid and trustd serve with a certificate issued from it
IDENTITY = ("machine.ca", "machine.acceptedCAs", "machine.certSANs", "machine.network.hostname")

#: service id -> the v1alpha1 paths (and everything under them) its spec is built from
Paths = Mapping[str, tuple[str, ...]]
SERVICE_PATHS: Paths = {
    "apid": IDENTITY,
    "trustd": (*IDENTITY, "machine.token"),
    "containerd": (),
}


@dataclass(frozen=True)
class ServiceConfigSpec:
    #: (path, sha256 of the value's canonical JSON) for each path the service is built from
    inputs: tuple[tuple[str, str], ...] = ()


#: digests only, so readable like any status (and not declared: machined-internal)
SERVICE_CONFIG = ResourceType("ServiceConfigs.v1alpha1.talos.dev", "v1alpha1",
                              ServiceConfigSpec)


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def service_inputs(tree: dict[str, Any], service_id: str,
                   paths: Paths = SERVICE_PATHS) -> tuple[tuple[str, str], ...]:
    return tuple((p, _digest(at(tree, p))) for p in paths.get(service_id, ()))


def config_tree(cfg: NodeConfig | None) -> dict[str, Any]:
    """The v1alpha1 document of `cfg` as the controllers read it from the resource."""
    if cfg is None:
        return {}
    text = cfg.raw.decode(errors="replace")
    for doc in documents(text):
        if isinstance(doc, dict) and doc.get("version") == "v1alpha1":
            return doc
    return {}


def stamped(spec: ServiceSpec, cfg: NodeConfig | None,
            paths: Paths = SERVICE_PATHS) -> ServiceSpec:
    """`spec` carrying the inputs it was built from (compared by the lifecycle controller)."""
    return replace(spec, config_inputs=service_inputs(config_tree(cfg), spec.id, paths))


class ServiceConfigController:
    name = "v1alpha1.ServiceConfigController"
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID),)
    outputs: tuple[Output, ...] = (Output.of(SERVICE_CONFIG),)

    def __init__(self, paths: Paths = SERVICE_PATHS) -> None:
        self.paths = paths

    async def run(self, r: ControllerContext) -> None:
        ns, rtype = SERVICE_CONFIG.default_namespace, SERVICE_CONFIG.type
        async for _ in r.wake_ups():
            cfg = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
            r.start_tracking_outputs()
            if cfg is not None:
                tree = v1alpha1(cfg)
                for sid in self.paths:
                    await r.put(ns, rtype, sid,
                                ServiceConfigSpec(service_inputs(tree, sid, self.paths)))
            await r.cleanup_outputs()
