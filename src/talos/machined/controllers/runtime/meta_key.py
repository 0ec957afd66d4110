"""runtime.MetaKeyController: one `MetaKey` resource per key in the node's META store
(runtime namespace, id `0x0a`, as upstream v1.13.9's `MetaKeyTagToID`), so `talosctl get
meta` lists what `talosctl meta write` put there.

The store (`machined/server/meta.py`) publishes every key after each change through an
`Observed` value, and once at boot after reading STATE; this controller writes the keys
there are and destroys the ones that are gone. Upstream's META object writes these resources
itself; here the writer is a controller, as every resource writer of a node.
"""

from __future__ import annotations

from collections.abc import Mapping

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.observed import follow
from talos.machined.observed import Observed
from talos.machinery.resources.runtime import META_KEY, MetaKeySpec

#: every key and its bytes; None until the store was read
MetaKeys = Observed[Mapping[int, bytes] | None]


def key_id(key: int) -> str:
    """The id upstream gives a META key (`MetaKeyTagToID`): `0x0a`."""
    return f"0x{key:02x}"


def spec_of(value: bytes) -> MetaKeySpec:
    # upstream converts the bytes to a Go string; a protobuf string must be UTF-8
    return MetaKeySpec(value.decode("utf-8", errors="replace"))


class MetaKeyController:
    name = "runtime.MetaKeyController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(META_KEY),)

    def __init__(self, keys: MetaKeys) -> None:
        self.keys = keys
        keys.bind()

    async def run(self, r: ControllerContext) -> None:
        async def write(keys: Mapping[int, bytes] | None) -> None:
            if keys is None:
                return
            r.start_tracking_outputs()
            for key, value in sorted(keys.items()):
                await r.put(META_KEY.default_namespace, META_KEY.type, key_id(key),
                            spec_of(value))
            await r.cleanup_outputs()
        await follow(r, self.keys, write)
