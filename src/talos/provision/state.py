"""What a local cluster is made of, recorded in `<state>/<name>/state.json` (atomic writes).

The record is written before anything is created and updated after every step, so
`cluster destroy` can undo a create that crashed half-way. Everything in it is also
derivable from the cluster name (bridge and veth names are hashes of it; node directories
live under the cluster directory), so destroy works even when the file is gone.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from talos.machinery.atomic import write_atomic
from talos.machinery.errors import InvalidArgument, NotFound

STATE_FILE = "state.json"


def default_state_dir() -> Path:
    return Path(os.path.expanduser("~/.talos/clusters"))


@dataclass(frozen=True)
class NodeRecord:
    name: str
    role: str  # "controlplane" | "worker"
    address: str
    directory: str
    #: host pid of machined (PID 1 inside the node); 0 before launch, and always for a node
    #: booted from the image (its machined changes at each boot: sandbox.node_machined_pid)
    pid: int = 0
    #: host pid of the `unshare` launcher (machined's parent), or of the node's firmware
    #: (talos.provision.firmware) for a node booted from the image
    launcher_pid: int = 0
    #: host end of the node's veth pair (a VM's: its tap device)
    veth: str = ""
    #: a VM's serial-console log (empty for a sandbox node: machined.log is its console)
    console_log: str = ""
    #: a sandbox node booted from the image: its boot directory (boot record and slots)
    boot_dir: str = ""

    @property
    def log_path(self) -> str:
        return self.console_log or os.path.join(self.directory, "machined.log")


@dataclass(frozen=True)
class ClusterRecord:
    name: str
    cidr: str
    bridge: str
    directory: str
    #: "creating" | "running" | "failed"
    status: str = "creating"
    created: float = 0.0
    talosconfig: str = ""
    nodes: tuple[NodeRecord, ...] = field(default=())
    #: host pid of the cluster's discovery service (0: none)
    discovery_pid: int = 0
    #: host pid of the cluster's OCI registry (provision/registry.py; 0: none)
    registry_pid: int = 0
    #: "sandbox" (namespaces) or "qemu" (VMs booted from the image)
    provisioner: str = "sandbox"

    @property
    def controlplanes(self) -> tuple[NodeRecord, ...]:
        return tuple(n for n in self.nodes if n.role == "controlplane")

    @property
    def workers(self) -> tuple[NodeRecord, ...]:
        return tuple(n for n in self.nodes if n.role == "worker")

    def with_node(self, node: NodeRecord) -> ClusterRecord:
        nodes = [n for n in self.nodes if n.name != node.name]
        nodes.append(node)
        order = {n.name: i for i, n in enumerate(self.nodes)}
        nodes.sort(key=lambda n: order.get(n.name, len(order)))
        return replace(self, nodes=tuple(nodes))

    def node(self, name: str) -> NodeRecord:
        for n in self.nodes:
            if n.name == name:
                return n
        raise NotFound(f"cluster {self.name!r} has no node {name!r}")

    # -- files --------------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return Path(self.directory) / STATE_FILE

    def save(self) -> None:
        write_atomic(self.path, json.dumps(asdict(self), indent=2) + "\n", mode=0o600)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str) -> ClusterRecord:
        try:
            nodes = tuple(NodeRecord(**n) for n in raw.pop("nodes", ()))
            return cls(**raw, nodes=nodes)
        except TypeError as e:
            raise InvalidArgument(f"{source}: not a cluster state file: {e}") from None

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> ClusterRecord:
        path = Path(directory) / STATE_FILE
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise NotFound(f"no cluster state at {path}") from None
        except (OSError, ValueError) as e:
            raise InvalidArgument(f"{path}: unreadable cluster state: {e}") from None
        if not isinstance(raw, dict):
            raise InvalidArgument(f"{path}: not a cluster state file")
        return cls.from_dict(raw, str(path))
