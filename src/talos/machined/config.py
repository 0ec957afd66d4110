"""The machine config as machined needs it at boot: validated, plus the few fields it uses.

Validation is `talos.machinery.config.load_config` when that exists; the fields machined reads
(hostname, machine type) come from the v1alpha1 document directly. Applying configs through
the API and the MachineConfig resource are issue 7.
"""

from __future__ import annotations

import importlib
import io
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from talos.machinery.errors import InvalidConfig, Problem


@dataclass(frozen=True)
class NodeConfig:
    raw: bytes
    machine_type: str
    hostname: str


def _validate(raw: bytes, source: str) -> None:
    try:
        mod = importlib.import_module("talos.machinery.config")
    except ImportError:
        return
    load = getattr(mod, "load_config", None)
    if load is None:
        return
    try:
        load(raw)
    except TypeError:
        load(raw.decode())


def parse_config(raw: bytes, source: str = "config") -> NodeConfig:
    yaml = YAML(typ="safe")
    try:
        docs = [d for d in yaml.load_all(io.BytesIO(raw)) if d is not None]
    except YAMLError as exc:
        raise InvalidConfig([Problem("", f"not valid YAML: {exc}")], source=source) from None
    main: dict[str, Any] | None = next(
        (d for d in docs if isinstance(d, dict) and d.get("version") == "v1alpha1"), None)
    if main is None:
        raise InvalidConfig([Problem("version", 'no document with version "v1alpha1"')],
                            source=source)
    _validate(raw, source)
    machine = main.get("machine") or {}
    if not isinstance(machine, dict):
        raise InvalidConfig([Problem("machine", "expected a mapping")], source=source)
    network = machine.get("network") or {}
    hostname = str(network.get("hostname") or "") if isinstance(network, dict) else ""
    return NodeConfig(raw=raw, machine_type=str(machine.get("type") or ""), hostname=hostname)


def load_config_file(path: str) -> NodeConfig:
    with open(path, "rb") as f:
        return parse_config(f.read(), source=path)
