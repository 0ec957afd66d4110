"""The v1alpha1 document of a MachineConfig resource as plain data, for controllers.

A config text is parsed once (pure-Python YAML: ~25 ms for a generated config, far more on a
busy node) however many controllers and services read it: at boot a dozen of them react to
the same MachineConfig. Every caller gets its own copy of the data.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from ruamel.yaml import YAML

from talos.cosi.resource import Resource


@functools.lru_cache(maxsize=4)
def _parsed(text: str) -> tuple[Any, ...]:
    return tuple(YAML(typ="safe", pure=True).load_all(text))


def documents(text: str) -> list[Any]:
    """Every YAML document of `text` (a copy: the caller may change it)."""
    return copy.deepcopy(list(_parsed(text)))


def v1alpha1(resource: Resource | None) -> dict[str, Any]:
    if resource is None:
        return {}
    for doc in _parsed(resource.spec.text):
        if isinstance(doc, dict) and doc.get("version") == "v1alpha1":
            return copy.deepcopy(doc)
    return {}


def at(tree: dict[str, Any], path: str) -> Any:
    """`at(tree, "machine.time.servers")`: the value, or None when any part is missing."""
    cur: Any = tree
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur
