"""The v1alpha1 document of a MachineConfig resource as plain data, for controllers."""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML

from talos.cosi.resource import Resource


def v1alpha1(resource: Resource | None) -> dict[str, Any]:
    if resource is None:
        return {}
    for doc in YAML(typ="safe", pure=True).load_all(resource.spec.text):
        if isinstance(doc, dict) and doc.get("version") == "v1alpha1":
            return doc
    return {}


def at(tree: dict[str, Any], path: str) -> Any:
    """`at(tree, "machine.time.servers")`: the value, or None when any part is missing."""
    cur: Any = tree
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur
