"""k8s.KubeletConfigController: `KubeletConfigs.kubernetes.talos.dev/kubelet` from
`machine.kubelet` (and the cluster DNS settings) of the running config.

It is published on every node with a config, whether or not a kubelet binary exists: the
kubelet service is `Skipped` without one, the resources say what it would run.
"""

from __future__ import annotations

from typing import Any

from talos.machined.controllers.config.derived import ConfigDerivedController
from talos.machined.controllers.config_tree import at
from talos.machined.controllers.k8s import defaults
from talos.machinery.resources.argvalues import arg_values
from talos.machinery.resources.k8s import KUBELET_CONFIG, KUBELET_ID, KubeletConfigSpec, Mount


def _mounts(value: Any) -> tuple[Mount, ...]:
    out = []
    for m in value or ():
        if isinstance(m, dict):
            out.append(Mount(destination=str(m.get("destination") or ""),
                             type=str(m.get("type") or ""),
                             source=str(m.get("source") or ""),
                             options=tuple(str(o) for o in m.get("options") or ())))
    return tuple(out)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def kubelet_config_spec(tree: dict[str, Any]) -> KubeletConfigSpec | None:
    """The KubeletConfig of a v1alpha1 document (plain data); None without a machine."""
    if not isinstance(tree.get("machine"), dict):
        return None
    extra_config = at(tree, "machine.kubelet.extraConfig")
    return KubeletConfigSpec(
        image=defaults.image(tree, "machine.kubelet.image", "kubelet"),
        cluster_dns=defaults.cluster_dns(tree),
        cluster_domain=defaults.dns_domain(tree),
        extra_args=arg_values(_mapping(at(tree, "machine.kubelet.extraArgs"))),
        extra_mounts=_mounts(at(tree, "machine.kubelet.extraMounts")),
        extra_config=dict(extra_config) if isinstance(extra_config, dict) else {},
        cloud_provider_external=bool(at(tree, "cluster.externalCloudProvider.enabled")),
        default_runtime_seccomp_enabled=bool(
            at(tree, "machine.kubelet.defaultRuntimeSeccompProfileEnabled")),
        skip_node_registration=bool(at(tree, "machine.kubelet.skipNodeRegistration")),
        disable_manifests_directory=bool(
            at(tree, "machine.kubelet.disableManifestsDirectory")),
    )


class KubeletConfigController(ConfigDerivedController):
    name = "k8s.KubeletConfigController"
    output = KUBELET_CONFIG
    resource_id = KUBELET_ID
    derive = staticmethod(kubelet_config_spec)
