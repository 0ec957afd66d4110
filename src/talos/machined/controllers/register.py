"""`register_all`: every controller of a node, wired with what each needs passed in (no
controller sees the node)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping

from talos.cosi.controller import Controller
from talos.cosi.runtime import Runtime
from talos.machined.config import NodeConfig, parse_config
from talos.machined.controllers.block.discovered_volume import DiscoveredVolumeController
from talos.machined.controllers.block.disk import DiskController
from talos.machined.controllers.block.volume_status import VolumeStatusController
from talos.machined.controllers.cluster.config import DiscoveryConfigController
from talos.machined.controllers.cluster.discovery_service import DiscoveryServiceController
from talos.machined.controllers.cluster.local_affiliate import LocalAffiliateController
from talos.machined.controllers.cluster.member import MemberController
from talos.machined.controllers.cluster.node_identity import NodeIdentityController
from talos.machined.controllers.config.acquire import (
    AcquireController,
    RunningConfig,
    running_config,
)
from talos.machined.controllers.config.machine_type import MachineTypeController
from talos.machined.controllers.etcd.config import ConfigController
from talos.machined.controllers.etcd.member import LocalMember
from talos.machined.controllers.etcd.member import MemberController as EtcdMemberController
from talos.machined.controllers.etcd.spec import SpecController
from talos.machined.controllers.k8s.kubelet_config import KubeletConfigController
from talos.machined.controllers.k8s.kubelet_spec import KubeletSpecController
from talos.machined.controllers.k8s.nodeip_config import NodeIPConfigController
from talos.machined.controllers.k8s.static_pods import StaticPodController
from talos.machined.controllers.network.address_spec import AddressSpecController
from talos.machined.controllers.network.address_status import AddressStatusController
from talos.machined.controllers.network.config_controllers import (
    AddressConfigController,
    LinkConfigController,
    RouteConfigController,
)
from talos.machined.controllers.network.dhcp_operator import DHCPOperatorController
from talos.machined.controllers.network.hostname_spec import HostnameSpecController
from talos.machined.controllers.network.hostname_status import HostnameStatusController
from talos.machined.controllers.network.link_spec import LinkSpecController
from talos.machined.controllers.network.link_status import LinkStatusController
from talos.machined.controllers.network.merge import merge_controllers
from talos.machined.controllers.network.node_address import NodeAddressController
from talos.machined.controllers.network.resolver_status import ResolverStatusController
from talos.machined.controllers.network.route_spec import RouteSpecController
from talos.machined.controllers.network.route_status import RouteStatusController
from talos.machined.controllers.network.time_server_status import TimeServerStatusController
from talos.machined.controllers.runtime.machine_status import (
    MachineStage,
    MachineStatusController,
)
from talos.machined.controllers.runtime.meta_key import MetaKeyController, MetaKeys
from talos.machined.controllers.secrets.api import APIController
from talos.machined.controllers.time.sync import SyncController
from talos.machined.controllers.v1alpha1.service import ServiceController
from talos.machined.controllers.v1alpha1.service_config import ServiceConfigController
from talos.machined.controllers.v1alpha1.service_lifecycle import (
    Builder,
    ServiceLifecycleController,
)
from talos.machined.etcd.factory import reconfigure
from talos.machined.etcd.manager import EtcdManager
from talos.machined.ntp import query
from talos.machined.paths import NodePaths
from talos.machined.services import apid, trustd
from talos.machined.system.supervisor import Supervisor
from talos.machinery.resources.etcd import EtcdConfigSpec


def register_all(runtime: Runtime, *, paths: NodePaths, sandbox: bool, supervisor: Supervisor,
                 published_config: RunningConfig, machine_stage: MachineStage,
                 etcd_member: LocalMember, meta_keys: MetaKeys,
                 etcd: Callable[[], EtcdManager | None],
                 hostname: Callable[[], str], service_builders: Mapping[str, Builder]) -> None:
    """Every controller of a node. `etcd()` is the node's etcd manager once services are
    registered; `hostname()` the node's name (the configured one, else the kernel's);
    `service_builders` build the config-derived services' specs (apid, trustd, containerd)."""
    def config() -> NodeConfig | None:
        return running_config(runtime.state)

    async def reconfigure_etcd(spec: EtcdConfigSpec | None) -> str:
        return await reconfigure(etcd(), config(), hostname(), spec)

    set_hostname = socket.sethostname if sandbox else None
    for c in (
        AcquireController(published_config),
        MachineStatusController(machine_stage),
        MetaKeyController(meta_keys),
        ServiceController(supervisor),
        ServiceConfigController(),
        ServiceLifecycleController(supervisor, service_builders,
                                   lambda raw: parse_config(raw, "MachineConfig")),
        EtcdMemberController(etcd_member),
        MachineTypeController(),
        HostnameStatusController(default=socket.gethostname(), set_hostname=set_hostname),
        NodeAddressController(),
        APIController((apid.identity_files(paths), trustd.identity_files(paths))),
        TimeServerStatusController(),
        SyncController(query),
        ConfigController(),
        SpecController(reconfigure_etcd),
        KubeletConfigController(),
        NodeIPConfigController(),
        KubeletSpecController(),
        StaticPodController(),
        DiscoveryConfigController(),
        NodeIdentityController(paths.state),
        LocalAffiliateController(),
        DiscoveryServiceController(),
        MemberController(),
        # kernel-state mirrors: links, addresses, routes, resolvers, disks, volumes
        HostnameSpecController(default=socket.gethostname()),
        LinkStatusController(),
        AddressStatusController(),
        RouteStatusController(),
        ResolverStatusController(),
        DiskController(),
        DiscoveredVolumeController(),
        VolumeStatusController({"STATE": paths.state, "EPHEMERAL": paths.ephemeral}),
    ):
        runtime.register(c)
    for network in _machine_network():
        runtime.register(network)


def _machine_network() -> tuple[Controller, ...]:
    """On a machine (platform metal) machined owns the network: the config/cmdline/DHCP
    specs, their merge, and the spec controllers that apply them to the kernel. A sandbox
    node's links are made by its provisioner (and a plain-mode node shares the host's,
    which it must never change), so they run only there."""
    from talos.machined.platform import cmdline, metal

    if not metal.active():
        return ()
    line = cmdline.read()
    return (AddressConfigController(line), RouteConfigController(line),
            LinkConfigController(line),
            DHCPOperatorController(line, boot_leases=metal.boot_leases()),
            *merge_controllers(),
            LinkSpecController(), AddressSpecController(), RouteSpecController())
