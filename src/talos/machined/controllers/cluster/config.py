"""cluster.ConfigController: `DiscoveryConfigs.cluster.talos.dev` (namespace config, id
`cluster`) from `cluster.discovery` of the running config.

As Talos: the service endpoint URL becomes `host:port` (port 80 for http, else 443) and http
means a plaintext connection; the key is `cluster.secret` decoded, the cluster id
`cluster.id`. Unlike Talos, a config that names no endpoint does not fall back to
discovery.talos.dev: nodes here have no way out, so the service registry then stays off.
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any

from talos.machined.controllers.cluster.cipher import key_from_secret
from talos.machined.controllers.config.derived import ConfigDerivedController
from talos.machined.controllers.config_tree import at
from talos.machinery.errors import InvalidArgument
from talos.machinery.resources.cluster import (
    DISCOVERY_CONFIG,
    DISCOVERY_CONFIG_ID,
    DiscoveryConfigSpec,
)

log = logging.getLogger("machined")


def service_endpoint(url: str) -> tuple[str, bool]:
    """`http://10.5.0.1:3000` -> ("10.5.0.1:3000", insecure=True)."""
    u = urllib.parse.urlsplit(url)
    if not u.scheme or not u.hostname:
        raise InvalidArgument(f"cluster.discovery.registries.service.endpoint: expected a URL "
                              f"like http://10.5.0.1:3000, got {url!r}")
    port = u.port or (80 if u.scheme == "http" else 443)
    host = f"[{u.hostname}]" if ":" in u.hostname else u.hostname
    return f"{host}:{port}", u.scheme == "http"


def discovery_config_spec(tree: dict[str, Any]) -> DiscoveryConfigSpec | None:
    if not isinstance(tree.get("cluster"), dict):
        return None
    if not at(tree, "cluster.discovery.enabled"):
        return DiscoveryConfigSpec()
    kubernetes = not at(tree, "cluster.discovery.registries.kubernetes.disabled")
    service = not at(tree, "cluster.discovery.registries.service.disabled")
    url = str(at(tree, "cluster.discovery.registries.service.endpoint") or "")
    if not service or not url:
        return DiscoveryConfigSpec(discovery_enabled=True,
                                   registry_kubernetes_enabled=kubernetes)
    try:
        endpoint, insecure = service_endpoint(url)
        key = key_from_secret(str(at(tree, "cluster.secret") or ""))
    except InvalidArgument as e:
        log.warning("discovery service registry off: %s", e)
        return DiscoveryConfigSpec(discovery_enabled=True,
                                   registry_kubernetes_enabled=kubernetes)
    return DiscoveryConfigSpec(
        discovery_enabled=True, registry_kubernetes_enabled=kubernetes,
        registry_service_enabled=True, service_endpoint=endpoint,
        service_endpoint_insecure=insecure, service_encryption_key=key,
        service_cluster_id=str(at(tree, "cluster.id") or ""))


class DiscoveryConfigController(ConfigDerivedController):
    name = "cluster.ConfigController"
    output = DISCOVERY_CONFIG
    resource_id = DISCOVERY_CONFIG_ID
    derive = staticmethod(discovery_config_spec)
