"""Where a node keeps things: `/` in a sandbox, a directory in plain (test) mode."""

from __future__ import annotations

import os
from dataclasses import dataclass

from talos.machinery import constants


@dataclass(frozen=True)
class NodePaths:
    root: str = "/"

    def _at(self, node_path: str) -> str:
        return os.path.join(self.root, node_path.lstrip("/"))

    @property
    def state(self) -> str:
        return self._at(constants.STATE_MOUNT)

    @property
    def ephemeral(self) -> str:
        return self._at(constants.EPHEMERAL_MOUNT)

    @property
    def system_run(self) -> str:
        return self._at(constants.SYSTEM_RUN)

    @property
    def socket(self) -> str:
        return self._at(constants.MACHINED_SOCKET)

    @property
    def config(self) -> str:
        return os.path.join(self.state, constants.CONFIG_FILENAME)

    @property
    def extensions(self) -> str:
        """Extension service definitions (Talos `ExtensionServiceConfig`-like YAML files)."""
        return os.path.join(self.state, "extensions")

    def to_node(self, host_path: str) -> str:
        """A host path under the root as the node sees it."""
        rel = os.path.relpath(host_path, self.root)
        return "/" if rel == "." else "/" + rel

    def to_host(self, node_path: str) -> str:
        """A node path (absolute) as a path on this host, normalized, staying under root."""
        norm = os.path.normpath("/" + node_path.lstrip("/"))
        return self._at(norm)

    def ensure(self) -> None:
        for d in (self.state, self.ephemeral, self.system_run):
            os.makedirs(d, mode=0o755, exist_ok=True)
        # machined's API socket lives in a directory only root can enter (see start_server)
        os.makedirs(os.path.dirname(self.socket), mode=0o700, exist_ok=True)
