"""network.AddressConfigController, RouteConfigController, LinkConfigController: the
`cmdline`, `configuration` and `default` layers of the node's network (`config_specs`),
published in the `network-config` namespace with layered ids (`configuration/eth0/...`),
re-derived whenever the machine config or the links change. The merge controllers pick
the winning layer per id; the spec controllers apply the result to the kernel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output, OutputKind
from talos.machined.controllers.config_tree import v1alpha1
from talos.machined.controllers.network.config_specs import Desired, desired
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.definition import ResourceType
from talos.machinery.resources.network import (
    ADDRESS_SPEC,
    CONFIG_NAMESPACE,
    LINK_SPEC,
    LINK_STATUS,
    ROUTE_SPEC,
    LinkStatusSpec,
)


async def config_and_links(r: ControllerContext) -> tuple[Mapping[str, Any],
                                                         dict[str, LinkStatusSpec]]:
    """The active machine config's v1alpha1 tree and the node's links by name: what every
    config-driven network controller reads on each wake-up."""
    cfg = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
    links = {res.id: res.spec for res in await r.list(LINK_STATUS.default_namespace,
                                                      LINK_STATUS.type)}
    return v1alpha1(cfg), links

class _ConfigController:
    name: str
    rtype: ResourceType
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID), Input.of(LINK_STATUS))
    outputs: tuple[Output, ...]

    def __init__(self, cmdline: str = "") -> None:
        #: the kernel command line (read once at boot; empty in a sandbox)
        self.cmdline = cmdline

    def pick(self, d: Desired) -> Mapping[str, Any]:
        raise NotImplementedError

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            tree, links = await config_and_links(r)
            r.start_tracking_outputs()
            for id_, spec in self.pick(desired(tree, self.cmdline, links)).items():
                await r.put(CONFIG_NAMESPACE, self.rtype.type, id_, spec)
            await r.cleanup_outputs()


class AddressConfigController(_ConfigController):
    name = "network.AddressConfigController"
    rtype = ADDRESS_SPEC
    outputs: tuple[Output, ...] = (Output.of(ADDRESS_SPEC, OutputKind.SHARED),)

    def pick(self, d: Desired) -> Mapping[str, Any]:
        return d.addresses


class RouteConfigController(_ConfigController):
    name = "network.RouteConfigController"
    rtype = ROUTE_SPEC
    outputs: tuple[Output, ...] = (Output.of(ROUTE_SPEC, OutputKind.SHARED),)

    def pick(self, d: Desired) -> Mapping[str, Any]:
        return d.routes


class LinkConfigController(_ConfigController):
    name = "network.LinkConfigController"
    rtype = LINK_SPEC
    outputs: tuple[Output, ...] = (Output.of(LINK_SPEC, OutputKind.SHARED),)

    def pick(self, d: Desired) -> Mapping[str, Any]:
        return d.links
