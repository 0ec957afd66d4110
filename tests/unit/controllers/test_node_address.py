"""network.NodeAddressController: the kernel's addresses as NodeAddresses (`default` the
first, `current` and `routed` all, `accumulative` all seen since boot), re-read every poll."""

from __future__ import annotations

from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.network.node_address import (
    NodeAddressController,
    current_prefixes,
)
from talos.machinery.resources.network import NODE_ADDRESS, NodeAddressSpec


class Kernel:
    """The addresses the kernel reports (the controller's narrow interface to it)."""

    def __init__(self, *prefixes: str) -> None:
        self.prefixes = list(prefixes)

    def __call__(self) -> list[str]:
        return list(self.prefixes)


async def test_addresses_are_published_and_follow_the_kernel() -> None:
    kernel = Kernel("10.5.0.2/24", "fd00::2/64")
    async with ControllerHarness(NodeAddressController(poll=5, read=kernel)) as h:
        await h.until_output(NODE_ADDRESS, "accumulative")
        assert h.outputs(NODE_ADDRESS) == {
            "default": NodeAddressSpec(("10.5.0.2/24",)),
            "current": NodeAddressSpec(("10.5.0.2/24", "fd00::2/64")),
            "routed": NodeAddressSpec(("10.5.0.2/24", "fd00::2/64")),
            "accumulative": NodeAddressSpec(("10.5.0.2/24", "fd00::2/64")),
        }

        # an address goes, another comes: seen at the next poll; accumulative keeps both
        kernel.prefixes = ["10.5.0.3/24"]
        await h.advance(5)
        await h.until_output(NODE_ADDRESS, "current",
                             lambda s: s.addresses == ("10.5.0.3/24",))
        await h.settled()
        assert h.outputs(NODE_ADDRESS)["default"] == NodeAddressSpec(("10.5.0.3/24",))
        assert h.outputs(NODE_ADDRESS)["accumulative"] == NodeAddressSpec(
            ("10.5.0.2/24", "fd00::2/64", "10.5.0.3/24"))

        # no address at all: no default, empty current
        kernel.prefixes = []
        await h.advance(5)
        await h.until_gone(NODE_ADDRESS, "default")
        await h.until_output(NODE_ADDRESS, "current", lambda s: s.addresses == ())


async def test_the_real_kernel_addresses_are_read() -> None:
    async with ControllerHarness(NodeAddressController()) as h:
        current = await h.until_output(NODE_ADDRESS, "current")
    assert current.spec.addresses == tuple(current_prefixes())
    assert not any(a.startswith(("127.", "::1/")) for a in current.spec.addresses)
