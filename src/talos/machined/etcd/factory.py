"""The node's etcd manager, built from its machine config."""

from __future__ import annotations

import asyncio

from talos.cosi.state import State
from talos.machined.apply.reboot_fields import v1alpha1_tree
from talos.machined.config import NodeConfig
from talos.machined.controllers.etcd.config import etcd_config_spec
from talos.machined.controllers.etcd.member import LocalMember
from talos.machined.etcd.manager import EtcdManager
from talos.machined.etcd.settings import EtcdSettings, settings_from_config
from talos.machined.paths import NodePaths
from talos.machined.system.supervisor import Supervisor
from talos.machinery.errors import TalosError
from talos.machinery.resources.etcd import ETCD_CONFIG, ETCD_CONFIG_ID, EtcdConfigSpec


def settings_for(config: NodeConfig | None, hostname: str,
                 etcd_config: EtcdConfigSpec | None) -> tuple[EtcdSettings | None, str]:
    """The member's settings from the machine config and the EtcdConfig resource (None with
    the reason when etcd cannot be configured)."""
    if config is None:
        return None, "no machine config"
    try:
        return settings_from_config(config.raw, hostname, etcd_config), ""
    except TalosError as exc:
        return None, str(exc)


def etcd_manager(paths: NodePaths, supervisor: Supervisor, config: NodeConfig | None,
                 hostname: str, state: State | None = None,
                 member: LocalMember | None = None) -> EtcdManager:
    """The manager; the member ID it learns goes to `member` (published by
    `etcd.MemberController`)."""
    control_plane = config is not None and config.machine_type in ("controlplane", "init")
    settings = None
    error = "no machine config"
    if control_plane and config is not None:
        current = None if state is None else state.get_nowait(
            ETCD_CONFIG.default_namespace, ETCD_CONFIG.type, ETCD_CONFIG_ID)
        settings, error = settings_for(config, hostname,
                                       current.spec if current is not None else None)
    return EtcdManager(paths, supervisor, control_plane=control_plane, settings=settings,
                       settings_error=error,
                       on_member=None if member is None else member.publish)



async def reconfigure(manager: EtcdManager | None, config: NodeConfig | None, hostname: str,
                      spec: EtcdConfigSpec | None) -> str:
    """Hand the etcd service the settings of the running config and EtcdConfig `spec`
    (`etcd.SpecController` calls it on every change); returns what it did ("" nothing).
    The manager exists once services are registered; before that the service is built from
    the same resource."""
    if manager is None or config is None or spec is None:
        return ""
    if etcd_config_spec(v1alpha1_tree(config.config)) != spec:
        return ""  # EtcdConfig has not caught up with the running config yet: next pass
    # parsing the config and reading the interfaces: off the event loop
    settings, error = await asyncio.to_thread(settings_for, config, hostname, spec)
    return await manager.reconfigure(settings, error)
