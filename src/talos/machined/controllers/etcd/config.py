"""etcd.ConfigController: `EtcdConfigs.etcd.talos.dev/etcd` from `cluster.etcd` of the running
config, on control planes only (destroyed on workers and without a config).

Subnet filters are split as Talos does (`!` prefix: exclude list); extraArgs keep every value
of a flag (a list in the config gives the flag several times). The etcd service takes its
advertised address and extra flags from this resource (`talos.machined.etcd`).
"""

from __future__ import annotations

from typing import Any

from talos.machined.controllers.config.derived import ConfigDerivedController
from talos.machined.controllers.config_tree import at
from talos.machinery.resources.etcd import (
    ETCD_CONFIG,
    ETCD_CONFIG_ID,
    EtcdConfigSpec,
    arg_values,
)

#: `cluster.etcd.image` when the config names none (Talos's default image; informational
#: here: the node runs Debian's etcd binary)
DEFAULT_IMAGE = "gcr.io/etcd-development/etcd:v3.5.21"

CONTROL_PLANE_TYPES = ("controlplane", "init")


def _split(filters: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    valid: list[str] = []
    exclude: list[str] = []
    for f in filters or ():
        text = str(f).strip()
        if text.startswith("!"):
            exclude.append(text[1:])
        elif text:
            valid.append(text)
    return tuple(valid), tuple(exclude)


def etcd_config_spec(tree: dict[str, Any]) -> EtcdConfigSpec | None:
    """The EtcdConfig of a v1alpha1 document (plain data); None unless a control plane."""
    if str(at(tree, "machine.type") or "") not in CONTROL_PLANE_TYPES:
        return None
    adv_valid, adv_exclude = _split(at(tree, "cluster.etcd.advertisedSubnets"))
    listen_valid, listen_exclude = _split(at(tree, "cluster.etcd.listenSubnets"))
    extra = at(tree, "cluster.etcd.extraArgs")
    return EtcdConfigSpec(
        advertise_valid_subnets=adv_valid, advertise_exclude_subnets=adv_exclude,
        listen_valid_subnets=listen_valid, listen_exclude_subnets=listen_exclude,
        image=str(at(tree, "cluster.etcd.image") or "") or DEFAULT_IMAGE,
        extra_args=arg_values(extra if isinstance(extra, dict) else {}))


class ConfigController(ConfigDerivedController):
    name = "etcd.ConfigController"
    output = ETCD_CONFIG
    resource_id = ETCD_CONFIG_ID
    derive = staticmethod(etcd_config_spec)
