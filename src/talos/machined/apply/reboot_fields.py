"""Which machine config changes a running node takes without a reboot.

THE table: `NO_REBOOT_FIELDS` lists the v1alpha1 paths that may change in place, following
the Talos documentation of `talosctl apply-config --mode no-reboot` (and Talos's
`CanApplyImmediate`). Any other changed v1alpha1 path needs a reboot. Documents other than
v1alpha1 (multi-document configs) are all applied in place, as Talos does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from talos.machinery.config import Config

#: v1alpha1 paths (and everything under them) that change without a reboot
NO_REBOOT_FIELDS: tuple[str, ...] = (
    "debug",
    "cluster",                  # cluster.etcd.*: etcd restarts with the new EtcdConfig
    "machine.ca",
    "machine.acceptedCAs",
    "machine.time",
    "machine.certSANs",
    "machine.install",          # only used by the next upgrade
    "machine.network",
    "machine.sysfs",
    "machine.sysctls",
    "machine.logging",
    "machine.controlPlane",
    "machine.kubelet",          # KubeletConfig/KubeletSpec follow (kubelet: see slots.py)
    "machine.kernel",
    "machine.registries",       # registry auth needs a CRI restart (containerd limitation)
    "machine.pods",
    "machine.seccompProfiles",
    "machine.nodeAnnotations",
    "machine.nodeLabels",
    "machine.nodeTaints",
    "machine.features.kubernetesTalosAPIAccess",
    "machine.features.kubePrism",
    "machine.features.hostDNS",
    "machine.features.imageCache",
    "machine.features.nodeAddressSortAlgorithm",
)


def _plain(node: Any) -> Any:
    """Round-trip YAML nodes as plain dicts/lists/scalars."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


_MISSING: Any = object()


def changed_paths(old: Any, new: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths whose value differs (lists compare as a whole)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            a, b = old.get(key, _MISSING), new.get(key, _MISSING)
            # a section added or removed: its leaves changed (so features.kubePrism added
            # counts as that field, not as all of machine.features)
            if a is _MISSING and isinstance(b, dict):
                a = {}
            if b is _MISSING and isinstance(a, dict):
                b = {}
            yield from changed_paths(a, b, path)
    elif old != new:
        yield prefix or "."


def v1alpha1_tree(cfg: Config | None) -> Any:
    """The v1alpha1 document of `cfg` as plain data ({} without one)."""
    if cfg is None:
        return {}
    for doc in cfg.documents:
        if doc.kind == "v1alpha1":
            return _plain(doc.raw)
    return {}


def can_change_in_place(path: str) -> bool:
    return any(path == f or path.startswith(f + ".") for f in NO_REBOOT_FIELDS)


def fields_needing_reboot(old: Config | None, new: Config) -> list[str]:
    """The changed v1alpha1 paths outside `NO_REBOOT_FIELDS`, sorted."""
    return sorted(p for p in changed_paths(v1alpha1_tree(old), v1alpha1_tree(new))
                  if not can_change_in_place(p))
