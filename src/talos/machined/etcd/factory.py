"""The node's etcd manager, built from its machine config."""

from __future__ import annotations

from talos.cosi.resource import Resource
from talos.cosi.state import State
from talos.machined.config import NodeConfig
from talos.machined.etcd.manager import EtcdManager
from talos.machined.etcd.settings import EtcdSettings, settings_from_config
from talos.machined.paths import NodePaths
from talos.machined.system.supervisor import Supervisor
from talos.machinery.errors import TalosError
from talos.machinery.resources.etcd import (
    ETCD_CONFIG,
    ETCD_CONFIG_ID,
    ETCD_MEMBER,
    LOCAL_MEMBER_ID,
    EtcdConfigSpec,
    EtcdMemberSpec,
)

OWNER = "etcd.MemberController"


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
                 hostname: str, state: State | None = None) -> EtcdManager:
    control_plane = config is not None and config.machine_type in ("controlplane", "init")
    settings = None
    error = "no machine config"
    if control_plane and config is not None:
        current = None if state is None else state.get_nowait(
            ETCD_CONFIG.default_namespace, ETCD_CONFIG.type, ETCD_CONFIG_ID)
        settings, error = settings_for(config, hostname,
                                       current.spec if current is not None else None)
    publish = None
    if state is not None:
        st = state

        async def publish(member_id: str | None) -> None:
            await publish_member(st, member_id)
    return EtcdManager(paths, supervisor, control_plane=control_plane, settings=settings,
                       settings_error=error, on_member=publish)


async def publish_member(state: State, member_id: str | None) -> None:
    """`EtcdMembers.etcd.talos.dev/local`: this node's member ID, gone when it left."""
    ns, rtype = ETCD_MEMBER.default_namespace, ETCD_MEMBER.type
    cur = state.get_nowait(ns, rtype, LOCAL_MEMBER_ID)
    if member_id is None:
        if cur is not None:
            await state.destroy(cur.pointer, owner=OWNER)
        return
    spec = EtcdMemberSpec(member_id=member_id)
    if cur is None:
        await state.create(Resource.new(ns, rtype, LOCAL_MEMBER_ID, spec), owner=OWNER)
    elif cur.spec != spec:
        await state.update(cur.with_spec(spec), owner=OWNER)
