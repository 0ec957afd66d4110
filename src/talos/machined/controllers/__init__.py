"""machined's controllers, one per file under `<namespace>/`; `register_all` wires them."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from talos.machined.node import Node
    from talos.machinery.resources.etcd import EtcdConfigSpec


def register_all(node: Node) -> None:
    from talos.machined.controllers.cluster.config import DiscoveryConfigController
    from talos.machined.controllers.cluster.discovery_service import DiscoveryServiceController
    from talos.machined.controllers.cluster.local_affiliate import LocalAffiliateController
    from talos.machined.controllers.cluster.member import MemberController
    from talos.machined.controllers.cluster.node_identity import NodeIdentityController
    from talos.machined.controllers.config.acquire import AcquireController
    from talos.machined.controllers.config.machine_type import MachineTypeController
    from talos.machined.controllers.etcd.config import ConfigController
    from talos.machined.controllers.etcd.member import MemberController as EtcdMemberController
    from talos.machined.controllers.etcd.spec import SpecController
    from talos.machined.controllers.k8s.kubelet_config import KubeletConfigController
    from talos.machined.controllers.k8s.kubelet_spec import KubeletSpecController
    from talos.machined.controllers.k8s.nodeip_config import NodeIPConfigController
    from talos.machined.controllers.k8s.static_pods import StaticPodController
    from talos.machined.controllers.network.hostname_status import HostnameStatusController
    from talos.machined.controllers.network.node_address import NodeAddressController
    from talos.machined.controllers.network.time_server_status import (
        TimeServerStatusController,
    )
    from talos.machined.controllers.runtime.machine_status import MachineStatusController
    from talos.machined.controllers.time.sync import SyncController
    from talos.machined.controllers.v1alpha1.service import ServiceController
    from talos.machined.ntp import query

    node.runtime.register(AcquireController(node.running_config))
    node.runtime.register(MachineStatusController(node.machine_stage))
    node.runtime.register(ServiceController(node.supervisor))
    node.runtime.register(EtcdMemberController(node.etcd_member))
    set_hostname = socket.sethostname if node.sandbox else None
    node.runtime.register(MachineTypeController())
    node.runtime.register(HostnameStatusController(default=socket.gethostname(),
                                                   set_hostname=set_hostname))
    node.runtime.register(NodeAddressController())
    node.runtime.register(TimeServerStatusController())
    node.runtime.register(SyncController(query))
    node.runtime.register(ConfigController())
    node.runtime.register(SpecController(lambda spec: _reconfigure_etcd(node, spec)))
    node.runtime.register(KubeletConfigController())
    node.runtime.register(NodeIPConfigController())
    node.runtime.register(KubeletSpecController())
    node.runtime.register(StaticPodController())
    node.runtime.register(DiscoveryConfigController())
    node.runtime.register(NodeIdentityController(node.paths.state))
    node.runtime.register(LocalAffiliateController())
    node.runtime.register(DiscoveryServiceController())
    node.runtime.register(MemberController())
    _register_network_and_block(node)


def _register_network_and_block(node: Node) -> None:
    """Kernel-state mirrors: links, addresses, routes, resolvers, disks, volumes."""
    from talos.machined.controllers.block.discovered_volume import DiscoveredVolumeController
    from talos.machined.controllers.block.disk import DiskController
    from talos.machined.controllers.block.volume_status import VolumeStatusController
    from talos.machined.controllers.network.address_status import AddressStatusController
    from talos.machined.controllers.network.hostname_spec import HostnameSpecController
    from talos.machined.controllers.network.link_status import LinkStatusController
    from talos.machined.controllers.network.resolver_status import ResolverStatusController
    from talos.machined.controllers.network.route_status import RouteStatusController

    node.runtime.register(HostnameSpecController(default=socket.gethostname()))
    node.runtime.register(LinkStatusController())
    node.runtime.register(AddressStatusController())
    node.runtime.register(RouteStatusController())
    node.runtime.register(ResolverStatusController())
    node.runtime.register(DiskController())
    node.runtime.register(DiscoveredVolumeController())
    node.runtime.register(VolumeStatusController({"STATE": node.paths.state,
                                                  "EPHEMERAL": node.paths.ephemeral}))


async def _reconfigure_etcd(node: Node, spec: EtcdConfigSpec | None) -> str:
    """Hand the etcd service new settings (node.etcd exists once services are registered;
    before that the service is built from the same resource)."""
    import asyncio

    from talos.machined.apply.reboot_fields import v1alpha1_tree
    from talos.machined.controllers.etcd.config import etcd_config_spec
    from talos.machined.etcd.factory import settings_for

    if node.etcd is None or node.config is None or spec is None:
        return ""
    if etcd_config_spec(v1alpha1_tree(node.config.config)) != spec:
        return ""  # EtcdConfig has not caught up with the running config yet: next pass
    # parsing the config and reading the interfaces: off the event loop
    settings, error = await asyncio.to_thread(settings_for, node.config, node.hostname, spec)
    return await node.etcd.reconfigure(settings, error)
