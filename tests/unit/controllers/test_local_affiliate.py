"""cluster.LocalAffiliateController: this node as an Affiliate (id = its node id) from its
identity, hostname, routed addresses and machine type, only while discovery is enabled."""

from __future__ import annotations

from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.cluster.local_affiliate import (
    LocalAffiliateController,
    operating_system,
)
from talos.machinery.resources.cluster import (
    AFFILIATE,
    DISCOVERY_CONFIG,
    DISCOVERY_CONFIG_ID,
    IDENTITY,
    LOCAL_IDENTITY,
    AffiliateSpec,
    ControlPlaneSpec,
    DiscoveryConfigSpec,
    IdentitySpec,
)
from talos.machinery.resources.config import MACHINE_TYPE, MACHINE_TYPE_ID, MachineTypeSpec
from talos.machinery.resources.network import (
    HOSTNAME_STATUS,
    NODE_ADDRESS,
    HostnameStatusSpec,
    NodeAddressSpec,
)

NODE_ID = "n" * 43


async def test_the_local_affiliate_follows_its_inputs_while_discovery_is_on() -> None:
    async with ControllerHarness(LocalAffiliateController()) as h:
        await h.put(IDENTITY, LOCAL_IDENTITY, IdentitySpec(NODE_ID))
        await h.put(HOSTNAME_STATUS, "hostname", HostnameStatusSpec("cp-1", "example.org"))
        await h.put(NODE_ADDRESS, "routed", NodeAddressSpec(("10.5.0.2/24", "fd00::2/64")))
        await h.put(MACHINE_TYPE, MACHINE_TYPE_ID, MachineTypeSpec("controlplane"))
        await h.settled()
        assert h.outputs(AFFILIATE) == {}  # no DiscoveryConfig yet: discovery is off

        await h.put(DISCOVERY_CONFIG, DISCOVERY_CONFIG_ID,
                    DiscoveryConfigSpec(discovery_enabled=True))
        r = await h.until_output(AFFILIATE, NODE_ID)
        assert r.spec == AffiliateSpec(
            node_id=NODE_ID, addresses=("10.5.0.2", "fd00::2"), hostname="cp-1",
            nodename="cp-1", operating_system=operating_system(),
            machine_type="controlplane", control_plane=ControlPlaneSpec(6443))

        # a worker, renamed: no control plane, the new name
        await h.put(MACHINE_TYPE, MACHINE_TYPE_ID, MachineTypeSpec("worker"))
        await h.put(HOSTNAME_STATUS, "hostname", HostnameStatusSpec("worker-1"))
        await h.until_output(AFFILIATE, NODE_ID, lambda s: (
            s.machine_type, s.nodename, s.control_plane) == ("worker", "worker-1", None))

        # discovery turned off: the affiliate goes
        await h.put(DISCOVERY_CONFIG, DISCOVERY_CONFIG_ID, DiscoveryConfigSpec())
        await h.until_gone(AFFILIATE, NODE_ID)


async def test_a_new_identity_replaces_the_affiliate() -> None:
    async with ControllerHarness(LocalAffiliateController()) as h:
        await h.put(DISCOVERY_CONFIG, DISCOVERY_CONFIG_ID,
                    DiscoveryConfigSpec(discovery_enabled=True))
        await h.put(HOSTNAME_STATUS, "hostname", HostnameStatusSpec("cp-1"))
        await h.put(MACHINE_TYPE, MACHINE_TYPE_ID, MachineTypeSpec("init"))
        await h.put(IDENTITY, LOCAL_IDENTITY, IdentitySpec("old"))
        r = await h.until_output(AFFILIATE, "old")
        assert r.spec.addresses == () and r.spec.control_plane == ControlPlaneSpec(6443)
        await h.put(IDENTITY, LOCAL_IDENTITY, IdentitySpec("new"))
        await h.until_outputs(AFFILIATE, lambda out: list(out) == ["new"])
