"""cluster.ConfigController: DiscoveryConfig from `cluster.discovery` (endpoint URL as
host:port and plaintext for http, key from `cluster.secret`, cluster id), gone without a
cluster config."""

from __future__ import annotations

import base64

from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.cluster.config import DiscoveryConfigController
from talos.machinery.resources.cluster import (
    DISCOVERY_CONFIG,
    DISCOVERY_CONFIG_ID,
    DiscoveryConfigSpec,
)
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from tests.unit.controllers.configs import machine_config

KEY = bytes(range(32))


def cluster(**discovery: object) -> dict[str, object]:
    return {"cluster": {"id": "cluster-1", "secret": base64.b64encode(KEY).decode(),
                        "discovery": discovery}}


async def test_discovery_config_follows_the_machine_config() -> None:
    async with ControllerHarness(DiscoveryConfigController()) as h:
        await h.settled()
        assert h.outputs(DISCOVERY_CONFIG) == {}  # no config: no DiscoveryConfig

        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config(cluster(
            enabled=True,
            registries={"service": {"endpoint": "http://10.5.0.1:3000"}})))
        r = await h.until_output(DISCOVERY_CONFIG, DISCOVERY_CONFIG_ID)
        assert r.spec == DiscoveryConfigSpec(
            discovery_enabled=True, registry_kubernetes_enabled=True,
            registry_service_enabled=True, service_endpoint="10.5.0.1:3000",
            service_endpoint_insecure=True, service_encryption_key=KEY,
            service_cluster_id="cluster-1")

        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config(cluster(enabled=False)))
        await h.until_output(DISCOVERY_CONFIG, DISCOVERY_CONFIG_ID,
                             lambda s: s == DiscoveryConfigSpec())

        await h.destroy(MACHINE_CONFIG, ACTIVE_ID)
        await h.until_gone(DISCOVERY_CONFIG, DISCOVERY_CONFIG_ID)


async def test_a_bad_secret_turns_the_service_registry_off() -> None:
    async with ControllerHarness(DiscoveryConfigController()) as h:
        tree = cluster(enabled=True,
                       registries={"service": {"endpoint": "https://discovery.example.org"}})
        tree["cluster"]["secret"] = "not base64!"  # type: ignore[index]
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config(tree))
        r = await h.until_output(DISCOVERY_CONFIG, DISCOVERY_CONFIG_ID)
        assert r.spec == DiscoveryConfigSpec(discovery_enabled=True,
                                             registry_kubernetes_enabled=True)
