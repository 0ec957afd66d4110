"""Semantic validation of a loaded config for a runtime mode, as `talosctl validate` does.

Structural checks (types, unknown fields, value formats) already happened at load time; this
adds what depends on several fields or on the mode: required sections, machine type rules,
CNI, network devices, bonds, discovery/KubeSpan prerequisites, and deprecation warnings.
With `strict`, warnings are errors (prefixed "warning: ", as Talos does).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import urllib.parse
from typing import Any

from talos.machinery.config.config import Config
from talos.machinery.config.documents import (
    EventSinkConfig,
    ExtensionServiceConfig,
    KmsgLogConfig,
    KubeSpanEndpointsConfig,
    NetworkRuleConfig,
    SideroLinkConfig,
    TrustedRootsConfig,
    UserVolumeConfig,
    VolumeConfig,
    WatchdogTimerConfig,
)
from talos.machinery.config.v1alpha1 import (
    Bond,
    ClusterConfig,
    Device,
    DeviceWireguardConfig,
    MachineConfig,
    V1Alpha1Config,
)
from talos.machinery.errors import InvalidArgument, InvalidConfig, Problem

#: Talos runtime modes (`talosctl validate --mode`)
MODES = ("cloud", "container", "metal")

_DNS_NAME = re.compile(
    r"^([a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})*[._]?$")
_BOOTSTRAP_TOKEN = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")


def is_dns_name(name: str) -> bool:
    return bool(name) and len(name) - name.count(".") <= 255 and bool(_DNS_NAME.match(name))


class _Report:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(Problem(path, message))


def _endpoint(report: _Report, path: str, value: str) -> None:
    url = urllib.parse.urlsplit(value)
    if url.scheme not in ("http", "https") or not url.hostname:
        report.error(path, f'invalid endpoint "{value}": expected https://host[:port]')
        return
    try:
        url.port  # noqa: B018 - raises on a bad port
    except ValueError:
        report.error(path, f'invalid endpoint "{value}": bad port')


def _base64_key(value: str) -> str | None:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "not valid base64"
    return None if len(raw) == 32 else f"wrong key length {len(raw)} (expected 32 bytes)"


def _check_bond(report: _Report, path: str, bond: Bond) -> None:
    mode = bond.mode or "balance-rr"
    miimon = bond.miimon or 0
    if miimon == 0:
        if bond.updelay:
            report.error(f"{path}.updelay", "can't be set if miimon is zero")
        if bond.downdelay:
            report.error(f"{path}.downdelay", "can't be set if miimon is zero")
    else:
        if (bond.updelay or 0) % miimon:
            report.error(f"{path}.updelay", "should be a multiple of miimon")
        if (bond.downdelay or 0) % miimon:
            report.error(f"{path}.downdelay", "should be a multiple of miimon")
    if bond.arp_ip_target:
        report.error(f"{path}.arpIPTarget", "not supported")
    if bond.ad_actor_system:
        report.error(f"{path}.adActorSystem", "not supported")
    if bond.lacp_rate and mode != "802.3ad":
        report.error(f"{path}.lacpRate", "only available in 802.3ad mode")
    if bond.interfaces and bond.device_selectors:
        report.error(path, "interfaces and deviceSelectors are mutually exclusive")
    lb = mode in ("802.3ad", "balance-alb", "balance-tlb")
    if lb and bond.arp_validate:
        report.error(f"{path}.arpValidate", f"not available in {mode} mode")
    if lb and bond.arp_interval:
        report.error(f"{path}.arpInterval", f"not available in {mode} mode")
    if bond.primary and mode not in ("active-backup", "balance-alb", "balance-tlb"):
        report.error(f"{path}.primary", f"not available in {mode} mode")
    if mode != "balance-rr" and (bond.packets_per_slave or 0) > 1:
        report.error(f"{path}.packetsPerSlave", f"not available in {mode} mode")
    if mode not in ("balance-alb", "balance-tlb") and bond.tlb_dynamic_lb:
        report.error(f"{path}.tlbDynamicLb", f"not available in {mode} mode")
    if mode != "802.3ad" and bond.ad_actor_sys_prio:
        report.error(f"{path}.adActorSysPrio", "only available in 802.3ad mode")
    if mode != "802.3ad" and bond.ad_user_port_key:
        report.error(f"{path}.adUserPortKey", "only available in 802.3ad mode")


def _check_wireguard(report: _Report, path: str, wg: DeviceWireguardConfig) -> None:
    if wg.private_key is not None and (err := _base64_key(wg.private_key)):
        report.error(f"{path}.privateKey", f"private key is invalid: {err}")
    for i, peer in enumerate(wg.peers or []):
        ppath = f"{path}.peers[{i}]"
        if (err := _base64_key(peer.public_key or "")):
            report.error(f"{ppath}.publicKey", f"public key is invalid: {err}")
        if peer.endpoint and not re.search(r":\d+$", peer.endpoint):
            report.error(f"{ppath}.endpoint", f'peer endpoint "{peer.endpoint}" has no port')


def _check_device(report: _Report, path: str, dev: Device, bonded: dict[str, str],
                  worker: bool) -> None:
    if dev.ignore:
        return
    if not dev.interface and dev.device_selector is None:
        report.error(path, 'either "interface" or "deviceSelector" is required')
    if dev.interface and dev.device_selector is not None:
        report.error(path, '"interface" and "deviceSelector" are mutually exclusive')
    if dev.interface and dev.interface in bonded and (
            dev.dhcp or dev.cidr or dev.addresses or dev.vip):
        report.error(path, f'bonded interface "{dev.interface}" shouldn\'t have any '
                     "addressing methods configured")
    if dev.addresses and dev.cidr:
        report.error(path, "interface can't have both .cidr and .addresses set")
    if dev.cidr:
        report.warn(f"{path}.cidr", "deprecated, use .addresses")
    for i, route in enumerate(dev.routes or []):
        _check_route(report, f"{path}.routes[{i}]", route.network, route.gateway, route.source)
    if dev.bond is not None:
        _check_bond(report, f"{path}.bond", dev.bond)
    if dev.wireguard is not None:
        _check_wireguard(report, f"{path}.wireguard", dev.wireguard)
    if dev.vip is not None:
        if not dev.vip.ip:
            report.error(f"{path}.vip.ip", "required field is missing")
        if worker:
            report.error(f"{path}.vip", "virtual (shared) IP is not allowed on "
                         "non-controlplane nodes")
    seen: set[int] = set()
    for i, vlan in enumerate(dev.vlans or []):
        vpath = f"{path}.vlans[{i}]"
        if vlan.vlan_id is None or vlan.vlan_id == 0:
            report.error(f"{vpath}.vlanId", "required, expected 1..4094")
        elif vlan.vlan_id in seen:
            report.error(f"{vpath}.vlanId", f"duplicate VLAN {vlan.vlan_id}")
        else:
            seen.add(vlan.vlan_id)
        if vlan.addresses and vlan.cidr:
            report.error(vpath, "vlan can't have both .cidr and .addresses set")
        for j, route in enumerate(vlan.routes or []):
            _check_route(report, f"{vpath}.routes[{j}]", route.network, route.gateway,
                         route.source)
        if vlan.vip is not None and worker:
            report.error(f"{vpath}.vip", "virtual (shared) IP is not allowed on "
                         "non-controlplane nodes")


def _check_route(report: _Report, path: str, network: str | None, gateway: str | None,
                 source: str | None) -> None:
    if network:
        try:
            ipaddress.ip_network(network, strict=False)
            if "/" not in network:
                raise ValueError
        except ValueError:
            report.error(f"{path}.network", f'invalid network address "{network}"')
    if gateway:
        try:
            ipaddress.ip_address(gateway)
        except ValueError:
            report.error(f"{path}.gateway", f'invalid gateway address "{gateway}"')
    if source:
        try:
            ipaddress.ip_address(source)
        except ValueError:
            report.error(f"{path}.source", f'invalid source address "{source}"')


def _check_machine(report: _Report, m: MachineConfig, cluster: ClusterConfig | None,
                   mode: str) -> None:
    mtype = m.type or ""
    if not mtype:
        report.error("machine.type", "machine type is required (controlplane or worker)")
    elif mtype == "join":
        report.warn("machine.type", 'use "worker" instead of "join" for machine type')
    worker = mtype in ("worker", "join")
    if mode == "metal":
        if m.install is None:
            report.error("machine.install", 'install instructions are required in "metal" mode')
        elif not m.install.disk and m.install.disk_selector is None:
            report.error("machine.install.disk", "either install disk or diskSelector should be "
                         "defined")
    if m.install is not None:
        if m.install.extensions is not None:
            report.warn("machine.install.extensions", "deprecated, use a custom installer "
                        "image")
        if m.install.bootloader is not None:
            report.warn("machine.install.bootloader", "deprecated, it has no effect")
    if m.ca is not None and m.ca.crt is None:
        report.error("machine.ca.crt", "required field is missing")
    for i, san in enumerate(m.cert_sans or []):
        _check_san(report, f"machine.certSANs[{i}]", san)
    net = m.network
    if net is not None:
        if net.hostname is not None and not is_dns_name(net.hostname):
            report.error("machine.network.hostname", f'invalid hostname "{net.hostname}"')
        bonded: dict[str, str] = {}
        for i, dev in enumerate(net.interfaces or []):
            if dev.bond is not None:
                for iface in dev.bond.interfaces or []:
                    owner = bonded.get(iface)
                    if owner is not None and owner != (dev.interface or ""):
                        report.error(f"machine.network.interfaces[{i}].bond.interfaces",
                                     f'interface "{iface}" is declared as part of two bonds: '
                                     f'"{owner}" and "{dev.interface}"')
                    bonded[iface] = dev.interface or ""
        seen: dict[str, int] = {}
        for i, dev in enumerate(net.interfaces or []):
            path = f"machine.network.interfaces[{i}]"
            _check_device(report, path, dev, bonded, worker)
            if dev.interface:
                if dev.interface in seen:
                    report.error(f"{path}.interface", f'duplicate interface "{dev.interface}" '
                                 f"(also interfaces[{seen[dev.interface]}])")
                seen.setdefault(dev.interface, i)
        for i, host in enumerate(net.extra_host_entries or []):
            if not host.ip:
                report.error(f"machine.network.extraHostEntries[{i}].ip",
                             "required field is missing")
        if net.kubespan is not None and net.kubespan.enabled:
            disc = cluster.discovery if cluster else None
            if disc is None or not disc.enabled:
                report.error("cluster.discovery.enabled",
                             "should be enabled when machine.network.kubespan is enabled")
            for name in ("id", "secret"):
                if cluster is None or not getattr(cluster, name):
                    report.error(f"cluster.{name}",
                                 "should be set when machine.network.kubespan is enabled")
    for i, f in enumerate(m.files or []):
        path = f"machine.files[{i}]"
        for attr in ("path", "op", "content"):
            if getattr(f, attr) is None:
                report.error(f"{path}.{attr}", "required field is missing")
        if f.path is not None and not f.path.startswith("/"):
            report.error(f"{path}.path", f'"{f.path}" is not an absolute path')
        elif f.path is not None and f.op == "create" and not (
                f.path == "/var" or f.path.startswith("/var/")):
            report.error(f"{path}.path", f'create operation is only allowed under /var '
                         f'("{f.path}")')
    for i, disk in enumerate(m.disks or []):
        parts = disk.partitions or []
        for j, part in enumerate(parts):
            if not part.size and j != len(parts) - 1:
                report.error(f"machine.disks[{i}].partitions[{j}].size",
                             f'partition for disk "{disk.device}" is set to occupy the full '
                             "disk, but it is not the last partition")
    for i, dest in enumerate((m.logging.destinations or []) if m.logging else []):
        path = f"machine.logging.destinations[{i}]"
        if not dest.endpoint:
            report.error(f"{path}.endpoint", "required field is missing")
        elif urllib.parse.urlsplit(dest.endpoint).scheme not in ("tcp", "udp"):
            report.error(f"{path}.endpoint", f'unsupported scheme in "{dest.endpoint}": '
                         'expected "tcp" or "udp"')
        if not dest.format:
            report.error(f"{path}.format", "required field is missing")
    for key in (m.sysctls or {}):
        if not key.strip():
            report.error("machine.sysctls", "empty sysctl name")
    sde = m.system_disk_encryption
    for part_name, enc in (("state", sde.state if sde else None),
                           ("ephemeral", sde.ephemeral if sde else None)):
        if enc is None:
            continue
        path = f"machine.systemDiskEncryption.{part_name}"
        if not enc.keys:
            report.error(f"{path}.keys", f"no encryption keys provided for the {part_name} "
                         "partition encryption")
        slots: set[int] = set()
        for i, enc_key in enumerate(enc.keys or []):
            slot = enc_key.slot or 0
            if slot in slots:
                report.error(f"{path}.keys[{i}].slot", f"encryption key slot {slot} is "
                             "already in use")
            slots.add(slot)
            if enc_key.node_id is None and enc_key.static is None and enc_key.kms is None \
                    and enc_key.tpm is None:
                report.error(f"{path}.keys[{i}]", f"encryption key at slot {slot} doesn't "
                             "have any settings")


def _check_san(report: _Report, path: str, san: str) -> None:
    """Talos passes SANs to the certificate as they are; reject only what can't be one."""
    if not san.strip() or any(c.isspace() for c in san) or "://" in san or "/" in san:
        report.error(path, f'"{san}" is not an IP address or DNS name')


def _check_cluster(report: _Report, c: ClusterConfig | None, machine_type: str) -> None:
    if c is None:
        report.error("cluster", "cluster instructions are required")
        return
    if c.control_plane is None or not c.control_plane.endpoint:
        report.error("cluster.controlPlane.endpoint", "cluster controlplane endpoint is "
                     "required")
    else:
        _endpoint(report, "cluster.controlPlane.endpoint", c.control_plane.endpoint)
    net = c.network
    if net is not None and net.dns_domain is not None and not is_dns_name(net.dns_domain):
        report.error("cluster.network.dnsDomain", f'"{net.dns_domain}" is not a valid DNS name')
    if c.token and not _BOOTSTRAP_TOKEN.match(c.token):
        report.error("cluster.token", "invalid bootstrap token: expected "
                     '"[a-z0-9]{6}.[a-z0-9]{16}"')
    controlplane = machine_type in ("controlplane", "init")
    cni = net.cni if net is not None else None
    if controlplane and cni is not None:
        name = cni.name or "flannel"
        if name in ("flannel", "none") and cni.urls:
            report.error("cluster.network.cni.urls", f'"urls" field should be empty for '
                         f'"{name}" CNI')
        if name == "custom" and not cni.urls:
            report.warn("cluster.network.cni.urls", '"urls" field should not be empty for '
                        '"custom" CNI')
    ecp = c.external_cloud_provider
    if ecp is not None and not ecp.enabled and ecp.manifests:
        report.error("cluster.externalCloudProvider", "external cloud provider is disabled, "
                     "but manifests are provided")
    names: set[str] = set()
    for i, manifest in enumerate(c.inline_manifests or []):
        name = (manifest.name or "").strip()
        if not name:
            report.error(f"cluster.inlineManifests[{i}].name", "inline manifest name can't be "
                         "empty")
        elif name in names:
            report.error(f"cluster.inlineManifests[{i}].name", f'inline manifest name "{name}" '
                         "is duplicate")
        names.add(name)
    disc = c.discovery
    if disc is not None and disc.enabled:
        service = disc.registries.service if disc.registries else None
        if service is None or not service.disabled:
            if service is not None and service.endpoint:
                url = urllib.parse.urlsplit(service.endpoint)
                if url.path not in ("", "/"):
                    report.error("cluster.discovery.registries.service.endpoint",
                                 "cluster discovery service path should be empty")
            if not c.id:
                report.error("cluster.id", "cluster discovery service requires .cluster.id")
            if not c.secret:
                report.error("cluster.secret", "cluster discovery service requires "
                             ".cluster.secret")
    if c.etcd is not None and c.etcd.subnet:
        report.warn("cluster.etcd.subnet", "deprecated, use cluster.etcd.advertisedSubnets")
    if c.allow_scheduling_on_masters is not None:
        report.warn("cluster.allowSchedulingOnMasters",
                    "deprecated, use cluster.allowSchedulingOnControlPlanes")
    if controlplane and c.api_server is not None:
        for i, san in enumerate(c.api_server.cert_sans or []):
            _check_san(report, f"cluster.apiServer.certSANs[{i}]", san)


def _check_v1alpha1(report: _Report, cfg: V1Alpha1Config, mode: str) -> None:
    if cfg.machine is None:
        report.error("machine", "machine instructions are required")
        return
    _check_cluster(report, cfg.cluster, cfg.machine.type or "")
    _check_machine(report, cfg.machine, cfg.cluster, mode)


def _is_addr_port(value: str) -> bool:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        return False
    try:
        ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True


_VOLUME_NAME = re.compile(r"^[A-Za-z0-9-]{1,34}$")
#: fields a document kind cannot do without
_REQUIRED: dict[type[Any], tuple[tuple[str, str], ...]] = {
    SideroLinkConfig: (("api_url", "apiUrl"),),
    KmsgLogConfig: (("url", "url"),),
    EventSinkConfig: (("endpoint", "endpoint"),),
    WatchdogTimerConfig: (("device", "device"),),
    TrustedRootsConfig: (("certificates", "certificates"),),
}


def _check_document(report: _Report, label: str, model: Any) -> None:
    for attr, key in _REQUIRED.get(type(model), ()):
        if not getattr(model, attr):
            report.error(f"{label}.{key}", "required field is missing")
    if isinstance(model, KmsgLogConfig) and model.url:
        url = urllib.parse.urlsplit(model.url)
        try:
            port = url.port
        except ValueError:
            port = None
        if url.scheme not in ("tcp", "udp"):
            report.error(f"{label}.url", f'unsupported scheme in "{model.url}": expected '
                         '"tcp" or "udp"')
        elif url.path not in ("", "/"):
            report.error(f"{label}.url", f'"{model.url}": the path must be empty')
        elif port is None:
            report.error(f"{label}.url", f'"{model.url}": the port is required')
    if isinstance(model, KubeSpanEndpointsConfig):
        for i, endpoint in enumerate(model.extra_announced_endpoints or []):
            if not _is_addr_port(endpoint):
                report.error(f"{label}.extraAnnouncedEndpoints[{i}]", f'invalid endpoint '
                             f'"{endpoint}": expected ip:port')
    if isinstance(model, UserVolumeConfig):
        if not _VOLUME_NAME.match(model.name):
            report.error(f"{label}.name", f'invalid volume name "{model.name}": 1 to 34 '
                         "letters, digits or hyphens")
        sel = model.provisioning.disk_selector if model.provisioning else None
        if sel is None or not sel.match:
            report.error(f"{label}.provisioning.diskSelector.match", "required field is "
                         "missing")
    if isinstance(model, VolumeConfig | UserVolumeConfig) and model.encryption is not None:
        enc = model.encryption
        if not enc.keys:
            report.error(f"{label}.encryption.keys", "at least one key is required")
        slots: set[int] = set()
        for i, enc_key in enumerate(enc.keys or []):
            slot = enc_key.slot or 0
            if slot in slots:
                report.error(f"{label}.encryption.keys[{i}].slot", f"encryption key slot "
                             f"{slot} is already in use")
            slots.add(slot)


def validate_config(config: Config, mode: str = "metal", *, strict: bool = False
                    ) -> list[str]:
    if mode not in MODES:
        raise InvalidArgument(f'unknown mode "{mode}": expected one of {", ".join(MODES)}')
    report = _Report()
    v1 = config.v1alpha1
    if v1 is not None:
        _check_v1alpha1(report, v1, mode)
    for doc in config.documents:
        _check_document(report, doc.label, doc.model)
        if isinstance(doc.model, ExtensionServiceConfig):
            mounts: set[str] = set()
            for i, f in enumerate(doc.model.config_files or []):
                path = f"{doc.label}.configFiles[{i}].mountPath"
                if not f.mount_path:
                    report.error(path, "required field is missing")
                elif f.mount_path in mounts:
                    report.error(path, f'duplicate mountPath "{f.mount_path}"')
                mounts.add(f.mount_path or "")
        if isinstance(doc.model, NetworkRuleConfig):
            sel = doc.model.port_selector
            if sel is None or not sel.ports:
                report.error(f"{doc.label}.portSelector.ports", "required field is missing")
            elif sel.protocol is None:
                report.error(f"{doc.label}.portSelector.protocol", "required field is missing")
    if strict:
        report.problems += [Problem(w.path, f"warning: {w.message}") for w in report.warnings]
        report.warnings = []
    if report.problems:
        raise InvalidConfig(report.problems, source=config.source)
    return [str(w) for w in report.warnings]
