"""network.AddressMergeController, RouteMergeController, LinkMergeController: for each id
in the `network-config` namespace (`<layer>/<id>`), the spec of the highest layer (default <
cmdline < platform < operator < configuration, as upstream) becomes the `network`
namespace's spec with that id; what no layer asks for any more goes away.
"""

from __future__ import annotations

from typing import Any

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output, OutputKind
from talos.machinery.resources.definition import ResourceType
from talos.machinery.resources.network import (
    ADDRESS_SPEC,
    CONFIG_LAYERS,
    CONFIG_NAMESPACE,
    LINK_SPEC,
    ROUTE_SPEC,
)


def merge(layered: dict[str, Any]) -> dict[str, Any]:
    """`{"<layer>/<id>": spec}` -> `{"<id>": spec of the highest layer}`."""
    best: dict[str, tuple[int, Any]] = {}
    for key, spec in layered.items():
        layer, sep, id_ = key.partition("/")
        if not sep or layer not in CONFIG_LAYERS:
            continue
        rank = CONFIG_LAYERS.index(layer)
        if id_ not in best or rank > best[id_][0]:
            best[id_] = (rank, spec)
    return {id_: spec for id_, (_, spec) in best.items()}


class MergeController:
    def __init__(self, name: str, rtype: ResourceType) -> None:
        self.name = name
        self.rtype = rtype
        self.inputs: tuple[Input, ...] = (Input.of(rtype, namespace=CONFIG_NAMESPACE),)
        self.outputs: tuple[Output, ...] = (Output.of(rtype, OutputKind.SHARED),)

    async def run(self, r: ControllerContext) -> None:
        ns, t = self.rtype.default_namespace, self.rtype.type
        async for _ in r.wake_ups():
            layered = {res.id: res.spec for res in await r.list(CONFIG_NAMESPACE, t)}
            r.start_tracking_outputs()
            for id_, spec in merge(layered).items():
                await r.put(ns, t, id_, spec)
            await r.cleanup_outputs()


def merge_controllers() -> tuple[MergeController, ...]:
    return (MergeController("network.AddressMergeController", ADDRESS_SPEC),
            MergeController("network.RouteMergeController", ROUTE_SPEC),
            MergeController("network.LinkMergeController", LINK_SPEC))
