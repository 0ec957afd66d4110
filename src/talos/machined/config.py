"""The machine config as machined needs it at boot: validated, plus the few fields it uses.

Applying configs through the API and the MachineConfig resource are issue 7; this only loads
the config the node was started with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from talos.machinery.config import Config, load_config
from talos.machinery.errors import InvalidConfig, Problem


@dataclass(frozen=True)
class NodeConfig:
    raw: bytes
    machine_type: str
    hostname: str
    config: Any  # talos.machinery.config.Config (kept for later controllers)


def parse_config(raw: bytes, source: str = "config") -> NodeConfig:
    """Validate `raw` (InvalidConfig names every problem) and pick what machined uses."""
    cfg: Config = load_config(raw, source=source)
    v1 = cfg.v1alpha1
    if v1 is None or v1.machine is None:
        raise InvalidConfig([Problem("machine", "the v1alpha1 document has no machine section")],
                            source=source)
    network = getattr(v1.machine, "network", None)
    hostname = str(getattr(network, "hostname", "") or "")
    return NodeConfig(raw=raw, machine_type=str(v1.machine.type or ""), hostname=hostname,
                      config=cfg)


def load_config_file(path: str) -> NodeConfig:
    with open(path, "rb") as f:
        return parse_config(f.read(), source=path)
