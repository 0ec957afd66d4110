"""Merging what several sources say about one node (same node id), as Talos's
AffiliateMergeController does: non-empty fields win in order, addresses are the union in
first-seen order."""

from __future__ import annotations

from collections.abc import Iterable

from talos.machinery.resources.cluster import AffiliateSpec


def merge_two(a: AffiliateSpec, b: AffiliateSpec) -> AffiliateSpec:
    """`a` updated with whatever `b` knows (b's non-empty fields override)."""
    addresses = list(a.addresses)
    addresses += [x for x in b.addresses if x not in addresses]
    return AffiliateSpec(
        node_id=a.node_id or b.node_id,
        addresses=tuple(addresses),
        hostname=b.hostname or a.hostname,
        nodename=b.nodename or a.nodename,
        operating_system=b.operating_system or a.operating_system,
        machine_type=(b.machine_type if b.machine_type not in ("", "unknown")
                      else a.machine_type),
        control_plane=b.control_plane if b.control_plane is not None else a.control_plane)


def merge(affiliates: Iterable[AffiliateSpec]) -> dict[str, AffiliateSpec]:
    """node id -> merged affiliate (affiliates without a node id are dropped)."""
    out: dict[str, AffiliateSpec] = {}
    for a in affiliates:
        if not a.node_id:
            continue
        out[a.node_id] = merge_two(out[a.node_id], a) if a.node_id in out else a
    return out
