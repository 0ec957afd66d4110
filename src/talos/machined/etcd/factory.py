"""The node's etcd manager, built from its machine config."""

from __future__ import annotations

from talos.machined.config import NodeConfig
from talos.machined.etcd.manager import EtcdManager
from talos.machined.etcd.settings import settings_from_config
from talos.machined.paths import NodePaths
from talos.machined.system.supervisor import Supervisor
from talos.machinery.errors import TalosError


def etcd_manager(paths: NodePaths, supervisor: Supervisor, config: NodeConfig | None,
                 hostname: str) -> EtcdManager:
    control_plane = config is not None and config.machine_type in ("controlplane", "init")
    settings = None
    error = "no machine config"
    if control_plane and config is not None:
        try:
            settings = settings_from_config(config.raw, hostname)
        except TalosError as exc:
            error = str(exc)
    return EtcdManager(paths, supervisor, control_plane=control_plane, settings=settings,
                       settings_error=error)
