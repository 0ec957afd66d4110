"""Semantic validation of a loaded config for a runtime mode, as `talosctl validate` does.

Structural checks (types, unknown fields, value formats) already happened at load time; this
adds what depends on several fields or on the mode: required sections, machine type rules,
CNI, network devices, bonds, discovery/KubeSpan prerequisites, and deprecation warnings.
With `strict`, warnings are errors (prefixed "warning: ", as Talos does).

The rules follow upstream siderolabs/talos v1.13.9 (pkg/machinery/config/types/v1alpha1/
v1alpha1_validation.go and the Validate methods of the document kinds under
pkg/machinery/config/types/), with upstream's wording plus the field path. Not ported:
CEL parsing of disk selectors (upstream compiles `diskSelector.match` against its CEL disk
environment; we only require it), the OCI-spec decode of `machine.baseRuntimeSpecOverrides`
(needs the runtime-spec schema), Kubernetes image/version compatibility (upstream does it only
at runtime, inside Talos) and the runtime checks (disk matching, SDBoot).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import urllib.parse
from collections.abc import Sequence
from typing import Any

from talos.machinery import role
from talos.machinery.config import cri
from talos.machinery.config.documents import (
    EncryptionSpec,
    EthernetConfig,
    EventSinkConfig,
    ExtensionServiceConfig,
    ImageVerificationConfig,
    KmsgLogConfig,
    KubeSpanEndpointsConfig,
    NetworkRuleConfig,
    ProvisioningSpec,
    SideroLinkConfig,
    UserVolumeConfig,
    VolumeConfig,
    WatchdogTimerConfig,
)
from talos.machinery.config.parse import ConfigDocument, v1alpha1_of
from talos.machinery.config.types import duration_seconds, size_bytes
from talos.machinery.config.v1alpha1 import (
    Bond,
    ClusterConfig,
    Device,
    DeviceWireguardConfig,
    MachineConfig,
    ResourcesConfig,
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


#: bond options with a fixed set of values (upstream nethelpers *ByName); "" is the default
_BOND_ENUMS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("xmit_hash_policy", "xmitHashPolicy", "xmit hash policy",
     ("layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4")),
    ("lacp_rate", "lacpRate", "lacp rate", ("slow", "fast")),
    ("arp_validate", "arpValidate", "arp_validate mode",
     ("none", "active", "backup", "all", "filter", "filter-active", "filter-backup")),
    ("arp_all_targets", "arpAllTargets", "arp_all_targets mode", ("any", "all")),
    ("primary_reselect", "primaryReselect", "primary_reselect mode",
     ("always", "better", "failure")),
    ("fail_over_mac", "failOverMac", "fail_over_mac value", ("none", "active", "follow")),
    ("ad_select", "adSelect", "ad_select mode", ("stable", "bandwidth", "count")),
)


def _check_bond(report: _Report, path: str, bond: Bond) -> None:
    mode = bond.mode or "balance-rr"
    for attr, key, what, allowed in _BOND_ENUMS:
        value = getattr(bond, attr)
        if value and value not in allowed:
            report.error(f"{path}.{key}", f'invalid {what} "{value}": expected one of '
                         + ", ".join(f'"{a}"' for a in allowed))
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
    if (err := _base64_key(wg.private_key or "")):
        report.error(f"{path}.privateKey", f"private key is invalid: {err}")
    for i, peer in enumerate(wg.peers or []):
        ppath = f"{path}.peers[{i}]"
        if (err := _base64_key(peer.public_key or "")):
            report.error(f"{ppath}.publicKey", f"public key is invalid: {err}")
        if peer.endpoint and not re.search(r":\d+$", peer.endpoint):
            report.error(f"{ppath}.endpoint", f'peer endpoint "{peer.endpoint}" has no port')
        for j, allowed in enumerate(peer.allowed_ips or []):
            if "/" not in allowed:
                report.error(f"{ppath}.allowedIPs[{j}]", f'peer allowed IP "{allowed}" is '
                             "invalid: expected a CIDR (address/prefix)")


def _check_device(report: _Report, path: str, dev: Device, bonded: dict[str, str],
                  worker: bool) -> None:
    if dev.ignore:
        return
    if not dev.interface and dev.device_selector is None:
        report.error(path, 'either "interface" or "deviceSelector" is required')
    if dev.interface and dev.device_selector is not None:
        report.error(path, '"interface" and "deviceSelector" are mutually exclusive')
    if dev.device_selector is not None and not dev.device_selector.model_fields_set:
        report.error(f"{path}.deviceSelector", "config section should contain at least one "
                     "field")
    if dev.interface and dev.interface in bonded and (
            dev.dhcp or dev.cidr or dev.addresses or dev.vip):
        report.error(path, f'bonded/bridged interface "{dev.interface}" shouldn\'t have any '
                     "addressing methods configured")
    if dev.addresses and dev.cidr:
        report.error(path, "interface can't have both .cidr and .addresses set")
    if dev.cidr:
        report.warn(f"{path}.cidr", "deprecated, use .addresses")
    for i, route in enumerate(dev.routes or []):
        _check_route(report, f"{path}.routes[{i}]", route.network, route.gateway, route.source)
        if not route.network and not route.gateway:
            report.error(f"{path}.routes[{i}]", "either network or gateway should be set")
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


def _check_machine_ca(report: _Report, m: MachineConfig, cluster: ClusterConfig | None,
                      controlplane: bool, worker: bool) -> None:
    ca = m.ca
    if ca is None and not m.accepted_cas:
        report.error("machine.ca", "issuing CA or some accepted CAs are required (.machine.ca, "
                     ".machine.acceptedCAs)")
    if controlplane:
        if ca is None:
            report.error("machine.ca", "issuing CA is required (.machine.ca)")
        elif not ca.key:
            report.error("machine.ca.key", "issuing CA key is required for controlplane nodes "
                         "(.machine.ca.key)")
    if worker and ca is not None:
        if ca.key:
            report.error("machine.ca.key", "issuing Talos API CA key is not allowed on "
                         "non-controlplane nodes (.machine.ca)")
        if not ca.crt and not m.accepted_cas:
            report.error("machine.ca.crt", "trusted CA certificates are required on "
                         "non-controlplane nodes (.machine.ca.crt, .machine.acceptedCAs)")
    if worker and cluster is not None and cluster.ca is not None and cluster.ca.key:
        report.error("cluster.ca.key", "issuing Kubernetes API CA key is not allowed on "
                     "non-controlplane nodes (.cluster.ca)")


def _check_features(report: _Report, m: MachineConfig, mode: str, controlplane: bool) -> None:
    features = m.features
    host_dns = features.host_dns if features else None
    enabled = bool(host_dns and host_dns.enabled)
    forward = bool(host_dns and host_dns.forward_kube_dns_to_host)
    if mode == "container":
        if not enabled:
            report.error("machine.features.hostDNS.enabled", "feature HostDNS should be "
                         "enabled in container mode (.machine.features.hostDNS.enabled)")
        if not forward:
            report.error("machine.features.hostDNS.forwardKubeDNSToHost", "feature HostDNS "
                         "should forward kube-dns to host in container mode "
                         "(.machine.features.hostDNS.forwardKubeDNSToHost)")
    if forward and not enabled:
        report.error("machine.features.hostDNS", "feature hostDNS.forwardKubeDNSToHost "
                     "requires hostDNS.enabled to be true (.machine.features.hostDNS)")
    access = features.kubernetes_talos_api_access if features else None
    if access is not None and access.enabled:
        path = "machine.features.kubernetesTalosAPIAccess"
        if not controlplane:
            report.error(f"{path}.enabled", "feature Kubernetes Talos API Access can only be "
                         "enabled on control plane machines")
        for i, name in enumerate(access.allowed_roles or []):
            if not role.is_known(name):
                report.error(f"{path}.allowedRoles[{i}]", f'invalid role "{name}" in allowed '
                             "roles for Kubernetes Talos API Access: expected one of "
                             + ", ".join(role.ALL))


#: kubelet config fields Talos sets itself (upstream kubelet.ProtectedConfigurationFields)
_KUBELET_PROTECTED = ("apiVersion", "authentication", "authorization", "cgroupRoot", "kind",
                      "kubeletCgroups", "port", "protectKernelDefaults", "resolvConf",
                      "rotateCertificates", "systemCgroups", "staticPodPath", "seccompDefault")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_RESERVED_ANNOTATIONS = ("talos.dev/owned-labels", "talos.dev/owned-annotations",
                         "talos.dev/owned-taints")
_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = re.compile(rf"^{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def _qualified_name(value: str) -> str | None:
    """Why `value` is not a Kubernetes qualified name (`[prefix/]name`), or None."""
    parts = value.split("/")
    if len(parts) > 2:
        return f'invalid format: too many slashes: "{value}"'
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            return f'prefix cannot be empty: "{value}"'
        if len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix):
            return f'prefix "{prefix}" is invalid: expected a DNS subdomain'
    if not name:
        return f'name cannot be empty: "{value}"'
    if len(name) > 63:
        return f'name is too long: "{value}" (limit is 63)'
    if not _QUALIFIED_NAME.match(name):
        return f'name "{name}" is invalid: expected alphanumerics, "-", "_" or "."'
    return None


def _label_value(value: str) -> str | None:
    if len(value) > 63:
        return f'label value length exceeds limit of 63: "{value}"'
    if value and not _QUALIFIED_NAME.match(value):
        return f'label value "{value}" is invalid'
    return None


def _check_node_metadata(report: _Report, m: MachineConfig) -> None:
    for key, value in sorted((m.node_labels or {}).items()):
        path = f"machine.nodeLabels[\"{key}\"]"
        for err in (_qualified_name(key), _label_value(value)):
            if err:
                report.error(path, f"invalid machine node labels: {err}")
    size = 0
    for key, value in sorted((m.node_annotations or {}).items()):
        path = f"machine.nodeAnnotations[\"{key}\"]"
        if (err := _qualified_name(key)):
            report.error(path, f"invalid machine node annotations: {err}")
        if key in _RESERVED_ANNOTATIONS:
            report.error(path, f'invalid machine node annotations: annotation "{key}" is '
                         "reserved")
        size += len(key) + len(value)
    if size > 256 * 1024:
        report.error("machine.nodeAnnotations", "invalid machine node annotations: total "
                     "annotation size exceeds limit of 262144 bytes")
    for key, value in sorted((m.node_taints or {}).items()):
        path = f"machine.nodeTaints[\"{key}\"]"
        if (err := _qualified_name(key)):
            report.error(path, f"invalid machine node taints: {err}")
            continue
        val, found, effect = value.partition(":")
        if not found:
            effect = val
        if effect not in _TAINT_EFFECTS:
            report.error(path, f'invalid machine node taints: invalid taint effect "{effect}": '
                         "expected " + ", ".join(_TAINT_EFFECTS))
        elif found and (err := _label_value(val)):
            report.error(path, f"invalid machine node taints: {err}")


def _check_machine(report: _Report, m: MachineConfig, cluster: ClusterConfig | None,
                   mode: str) -> None:
    mtype = m.type or ""
    if not mtype:
        report.error("machine.type", 'unknown machine type "": expected controlplane or '
                     "worker")
    elif mtype == "join":
        report.warn("machine.type", 'use "worker" instead of "join" for machine type')
    worker = mtype in ("worker", "join")
    controlplane = mtype in ("controlplane", "init")
    if mode == "metal":
        if m.install is None:
            report.error("machine.install", 'install instructions are required in "metal" mode')
        else:
            if not m.install.disk and m.install.disk_selector is None:
                report.error("machine.install.disk", "either install disk or diskSelector "
                             "should be defined")
            if m.install.extra_kernel_args and m.install.grub_use_uki_cmdline:
                report.error("machine.install.extraKernelArgs", "install.extraKernelArgs and "
                             "install.grubUseUKICmdline can't be used together")
    if m.install is not None:
        images: set[str] = set()
        for i, ext in enumerate(m.install.extensions or []):
            if (ext.image or "") in images:
                report.error(f"machine.install.extensions[{i}].image", f'duplicate system '
                             f'extension "{ext.image or ""}"')
            images.add(ext.image or "")
        if images:
            report.warn("machine.install.extensions", ".machine.install.extensions is "
                        "deprecated, please see https://docs.siderolabs.com/talos/latest/"
                        "platform-specific-installations/boot-assets")
        if m.install.bootloader is not None:
            report.warn("machine.install.bootloader", "deprecated, it has no effect")
    _check_machine_ca(report, m, cluster, controlplane, worker)
    _check_features(report, m, mode, controlplane)
    _check_node_metadata(report, m)
    kubelet = m.kubelet
    for field in _KUBELET_PROTECTED:
        if kubelet is not None and field in (kubelet.extra_config or {}):
            report.error(f"machine.kubelet.extraConfig.{field}", f'kubelet configuration field '
                         f'"{field}" can\'t be overridden')
    for i, san in enumerate(m.cert_sans or []):
        _check_san(report, f"machine.certSANs[{i}]", san)
    net = m.network
    if net is not None:
        if net.hostname is not None and not is_dns_name(net.hostname):
            report.error("machine.network.hostname", f'invalid hostname "{net.hostname}"')
        bonded: dict[str, str] = {}
        for i, dev in enumerate(net.interfaces or []):
            path = f"machine.network.interfaces[{i}]"
            if dev.bond is not None and dev.bridge is not None:
                report.error(path, f'interface has both bridge and bond sections set '
                             f'"{dev.interface or ""}": config sections are mutually exclusive')
            members = dev.bridge.interfaces if dev.bridge is not None else None
            if dev.bond is not None:
                members = dev.bond.interfaces
            section = "bond" if dev.bond is not None else "bridge"
            for iface in members or []:
                owner = bonded.get(iface)
                if owner is not None and owner != (dev.interface or ""):
                    report.error(f"{path}.{section}.interfaces", f'interface "{iface}" is '
                                 f'declared as part of two separate links: "{owner}" and '
                                 f'"{dev.interface}"')
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
            mtu = net.kubespan.mtu if net.kubespan.mtu is not None else 1420
            if mtu < 1280:
                report.error("machine.network.kubespan.mtu", "kubespan link MTU must be at "
                             "least 1280")
            filters = net.kubespan.filters
            for i, cidr in enumerate((filters.exclude_advertised_networks or [])
                                     if filters else []):
                try:
                    ipaddress.ip_network(cidr, strict=False)
                    if "/" not in cidr:
                        raise ValueError
                except ValueError:
                    report.error(f"machine.network.kubespan.filters.excludeAdvertisedNetworks"
                                 f"[{i}]", f'KubeSpan exclude advertised networks filter is '
                                 f'not valid: "{cidr}"')
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
        path = "cluster.network.cni"
        if name in ("flannel", "none") and cni.urls:
            report.error(f"{path}.urls", f'"urls" field should be empty for "{name}" CNI')
        if name == "custom" and not cni.urls:
            report.warn(f"{path}.urls", '"urls" field should not be empty for "custom" CNI')
        if name in ("none", "custom") and cni.flannel is not None:
            if cni.flannel.extra_args:
                report.error(f"{path}.flannel.extraArgs", f'"flanneldExtraArgs" field should '
                             f'be empty for "{name}" CNI')
            if cni.flannel.kube_network_policies_enabled:
                report.error(f"{path}.flannel.kubeNetworkPoliciesEnabled",
                             f'"flannelKubeNetworkPoliciesEnabled" should not be enabled for '
                             f'"{name}" CNI')
        if name == "custom":
            for i, cni_url in enumerate(cni.urls or []):
                _endpoint(report, f"{path}.urls[{i}]", cni_url)
    ecp = c.external_cloud_provider
    if ecp is not None and not ecp.enabled and ecp.manifests:
        report.error("cluster.externalCloudProvider", "external cloud provider is disabled, "
                     "but manifests are provided")
    elif ecp is not None:
        for i, manifest_url in enumerate(ecp.manifests or []):
            _endpoint(report, f"cluster.externalCloudProvider.manifests[{i}]", manifest_url)
    if c.etcd is not None:
        if not controlplane:
            report.error("cluster.etcd", "etcd config is only allowed on control plane "
                         "machines")
        else:
            if c.etcd.ca is None:
                report.error("cluster.etcd.ca", "key/cert combination should not be empty")
            if c.etcd.subnet and c.etcd.advertised_subnets:
                report.error("cluster.etcd.subnet", "etcd subnet can't be set when advertised "
                             "subnets are set")
    api = c.api_server
    if api is not None:
        if api.authorization_config is not None:
            for key in api.extra_args or {}:
                if key == "authorization-mode":
                    report.error("cluster.apiServer.extraArgs.authorization-mode",
                                 "authorization-mode cannot be used in conjunction with "
                                 "AuthorizationConfig, use either AuthorizationConfig or "
                                 "authorization-mode")
                elif key.startswith("authorization-webhook-"):
                    report.error(f"cluster.apiServer.extraArgs.{key}", "authorization-webhook-*"
                                 " flags cannot be used in conjunction with AuthorizationConfig,"
                                 " use either AuthorizationConfig or authorization-webhook-* "
                                 "flags")
        for i, authz in enumerate(api.authorization_config or []):
            path = f"cluster.apiServer.authorizationConfig[{i}]"
            if not authz.type:
                report.error(f"{path}.type", "authorizer type must be set")
            elif authz.type not in ("Node", "RBAC", "Webhook"):
                report.error(f"{path}.type", f'authorizer type "{authz.type}" is not allowed, '
                             'allowed types are "Node", "RBAC", "Webhook"')
            if not authz.name:
                report.error(f"{path}.name", "authorizer name must be set")
    for key, component, what in (("apiServer", c.api_server, "apiserver"),
                                 ("controllerManager", c.controller_manager,
                                  "controller-manager"),
                                 ("scheduler", c.scheduler, "scheduler")):
        resources = getattr(component, "resources", None)
        if isinstance(resources, ResourcesConfig):
            _check_resources(report, f"cluster.{key}.resources", what, resources)
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


def _check_resources(report: _Report, path: str, what: str, res: ResourcesConfig) -> None:
    for part, values in (("requests", res.requests), ("limits", res.limits)):
        for key in values or {}:
            if key not in ("cpu", "memory"):
                report.error(f"{path}.{part}.{key}", f'{what} resource validation failed: '
                             f'unsupported pod resource "{key}" (expected cpu or memory)')


def _check_v1alpha1(report: _Report, cfg: V1Alpha1Config, mode: str) -> None:
    if cfg.machine is None:
        report.error("machine", "machine instructions are required")
        return
    if cfg.persist is False:
        report.error("persist", ".persist should be enabled")
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


_VOLUME_NAME = re.compile(r"^[A-Za-z0-9-]*$")
#: VolumeConfig names upstream accepts (system volumes that can be configured)
_SYSTEM_VOLUMES = ("STATE", "EPHEMERAL", "IMAGECACHE")


def _url_checks(report: _Report, path: str, value: str | None, schemes: tuple[str, ...],
                *, port: bool) -> None:
    key = path.rsplit(".", 1)[-1]
    if not value:
        report.error(path, f"{key} is required")
        return
    url = urllib.parse.urlsplit(value)
    try:
        has_port = url.port is not None
    except ValueError:
        has_port = False
    if url.scheme not in schemes:
        report.error(path, f"{key} scheme must be " + " or ".join(f"{s}://" for s in schemes)
                     + f' (got "{value}")')
    elif url.path not in ("", "/"):
        report.error(path, f'{key} path must be empty (got "{value}")')
    elif port and not has_port:
        report.error(path, f'{key} port is required (got "{value}")')


def _check_provisioning(report: _Report, path: str, p: ProvisioningSpec | None, *,
                        required: bool, size_supported: bool) -> None:
    p = p or ProvisioningSpec()
    sel = p.disk_selector
    if required and (sel is None or not sel.match):
        report.error(f"{path}.diskSelector.match", "disk selector is required")
    if size_supported:
        min_size = p.min_size
        max_size = p.max_size
        if min_size and max_size and "%" not in max_size and not max_size.startswith("-"):
            if size_bytes(min_size) > size_bytes(max_size):
                report.error(f"{path}.minSize", "min size is greater than max size")
        elif required and not min_size and not max_size:
            report.error(f"{path}.maxSize", "min size or max size is required")
    elif p.min_size or p.max_size or p.grow is not None:
        report.error(path, "min size, max size and grow are not supported")


def _check_encryption(report: _Report, path: str, enc: EncryptionSpec | None) -> None:
    if enc is None or not enc.model_fields_set:
        return
    if enc.provider != "luks2":
        report.error(f"{path}.provider", f'unsupported encryption provider: '
                     f'"{enc.provider or ""}" (expected "luks2")')
    if not enc.keys:
        report.error(f"{path}.keys", "encryption keys are required")
    slots: set[int] = set()
    for i, key in enumerate(enc.keys or []):
        slot = key.slot or 0
        if slot in slots:
            report.error(f"{path}.keys[{i}].slot", f"duplicate key slot {slot}")
        slots.add(slot)
        if key.static is None and key.node_id is None and key.kms is None and key.tpm is None:
            report.error(f"{path}.keys[{i}]", "at least one encryption key type must be "
                         f"specified for slot {slot}")
        options = key.tpm.options if key.tpm is not None else None
        for j, pcr in enumerate((options.pcrs or []) if options else []):
            if not 0 <= pcr <= 23:
                report.error(f"{path}.keys[{i}].tpm.options.pcrs[{j}]", f"TPM PCR {pcr} is out "
                             "of range (0-23)")


def _check_filesystem(report: _Report, path: str, model: UserVolumeConfig) -> None:
    fs = model.filesystem
    if fs is None:
        return
    fstype = fs.type or "xfs"
    if fs.project_quota_support and fstype != "xfs":
        report.error(f"{path}.projectQuotaSupport", "project quota support is only available "
                     "for xfs filesystem")
    if fs.xfs is not None and fstype != "xfs":
        report.error(f"{path}.xfs", "xfs options are only available for xfs filesystem")


def _check_user_volume(report: _Report, label: str, model: UserVolumeConfig) -> None:
    name = model.name
    if not 1 <= len(name) <= 34:
        report.error(f"{label}.name", "name must be between 1 and 34 characters long")
    if not _VOLUME_NAME.match(name):
        report.error(f"{label}.name", f'invalid volume name "{name}": name can only contain '
                     "lowercase and uppercase ASCII letters, digits, and hyphens")
    vtype = model.volume_type or "partition"
    if vtype == "directory":
        for key in ("provisioning", "encryption", "filesystem", "mount"):
            section = getattr(model, key)
            if section is not None and section.model_fields_set:
                report.error(f"{label}.{key}", f"{key} spec is invalid for volumeType "
                             "directory")
        return
    _check_provisioning(report, f"{label}.provisioning", model.provisioning, required=True,
                        size_supported=vtype == "partition")
    _check_filesystem(report, f"{label}.filesystem", model)
    _check_encryption(report, f"{label}.encryption", model.encryption)


def _check_volume(report: _Report, label: str, model: VolumeConfig,
                  v1: V1Alpha1Config | None) -> None:
    if model.name not in _SYSTEM_VOLUMES:
        report.error(f"{label}.name", f'only {", ".join(_SYSTEM_VOLUMES)} volumes are supported '
                     f'(got "{model.name}")')
        return
    if model.name == "STATE":
        if model.provisioning is not None and model.provisioning.model_fields_set:
            report.error(f"{label}.provisioning", 'provisioning config is not allowed for the '
                         '"STATE" volume')
        for i, key in enumerate(model.encryption.keys or [] if model.encryption else []):
            if key.lock_to_state:
                report.error(f"{label}.encryption.keys[{i}].lockToState", "state-locked key is "
                             'not allowed for the "STATE" volume')
    _check_provisioning(report, f"{label}.provisioning", model.provisioning, required=False,
                        size_supported=True)
    _check_encryption(report, f"{label}.encryption", model.encryption)
    if model.name in ("STATE", "EPHEMERAL") and model.encryption is not None and v1 is not None:
        sde = v1.machine.system_disk_encryption if v1.machine else None
        legacy = getattr(sde, model.name.lower()) if sde else None
        if legacy is not None:
            report.error(f"{label}.encryption", f'system disk encryption for "{model.name}" is '
                         "configured in both v1alpha1.Config and VolumeConfig")


def _check_image_verification(report: _Report, label: str,
                              model: ImageVerificationConfig) -> None:
    """Upstream's ImageVerificationConfigV1Alpha1.Validate (security/image_verification.go):
    the pattern matches registry/repository only, each rule skips, denies or names exactly
    one verifier."""
    for i, rule in enumerate(model.rules or []):
        path = f"{label}.rules[{i}]"
        pattern = rule.image or ""
        if not pattern:
            report.error(f"{path}.image", "imagePattern must be specified")
        if "@" in pattern:
            report.warn(f"{path}.image", "imagePattern contains '@' but matching only applies "
                        "to the image registry and repository, not the tag or digest")
        _, slash, repository = pattern.partition("/")
        if slash and ":" in repository:
            report.warn(f"{path}.image", "imagePattern contains ':' but matching only applies "
                        "to the image registry and repository, not the tag or digest")
        if pattern and not slash and pattern != "*":
            report.warn(f"{path}.image", "imagePattern does not contain a '/', image "
                        "references like 'nginx' are matched as 'docker.io/nginx' (normalized)")
        skip, deny = bool(rule.skip), bool(rule.deny)
        verifiers = rule.keyless is not None or rule.public_key is not None
        if skip and deny:
            report.error(path, "skip and deny cannot both be true")
        if (skip or deny) and verifiers:
            report.error(path, "verifiers cannot be configured if skip or deny is true")
        if not skip and not deny and not verifiers:
            report.error(path, "at least one verifier must be configured")
        if rule.keyless is not None and rule.public_key is not None:
            report.error(path, "only one of keyless or publicKey verifier can be configured")
        if rule.keyless is not None:
            if not rule.keyless.issuer:
                report.error(f"{path}.keyless.issuer", "verifier OIDC issuer must be specified")
            if not rule.keyless.subject and not rule.keyless.subject_regex:
                report.error(f"{path}.keyless", "verifier subject or subjectRegex must be "
                             "specified")
        if rule.public_key is not None and not rule.public_key.certificate:
            report.error(f"{path}.publicKey.certificate", "verifier certificates must be "
                         "specified")


def _port_bounds(value: str) -> tuple[int, int]:
    low, _, high = value.partition("-")
    return int(low), int(high or low)


def _check_document(report: _Report, label: str, model: Any,
                    v1: V1Alpha1Config | None) -> None:
    if isinstance(model, SideroLinkConfig):
        _url_checks(report, f"{label}.apiUrl", model.api_url, ("https", "grpc"), port=False)
    if isinstance(model, KmsgLogConfig):
        _url_checks(report, f"{label}.url", model.url, ("tcp", "udp"), port=True)
    if isinstance(model, EventSinkConfig) and not _is_host_port(model.endpoint or ""):
        report.error(f"{label}.endpoint", f'event sink endpoint "{model.endpoint or ""}": '
                     "expected host:port")
    if isinstance(model, WatchdogTimerConfig):
        if not model.device:
            report.error(f"{label}.device", "watchdog device: empty value")
        if model.timeout and 0 < duration_seconds(model.timeout) < 10:
            report.error(f"{label}.timeout", "watchdog timeout: minimum value is 10s")
    if isinstance(model, KubeSpanEndpointsConfig):
        for i, endpoint in enumerate(model.extra_announced_endpoints or []):
            if not _is_addr_port(endpoint):
                report.error(f"{label}.extraAnnouncedEndpoints[{i}]", f'invalid endpoint '
                             f'"{endpoint}": expected ip:port')
    if isinstance(model, EthernetConfig) and not model.name:
        report.error(f"{label}.name", "name is required")
    if isinstance(model, ImageVerificationConfig):
        _check_image_verification(report, label, model)
    for field, message in cri.document_problems(model):
        report.error(f"{label}.{field}" if field else label, message)
    if isinstance(model, UserVolumeConfig):
        _check_user_volume(report, label, model)
    if isinstance(model, VolumeConfig):
        _check_volume(report, label, model, v1)
    if isinstance(model, ExtensionServiceConfig):
        if not model.config_files and not model.environment:
            report.error(label, f'no config files found for extension "{model.name}" '
                         "(configFiles or environment is required)")
        mounts: set[str] = set()
        for i, f in enumerate(model.config_files or []):
            path = f"{label}.configFiles[{i}]"
            if not f.content:
                report.error(f"{path}.content", f'extension content is required for extension '
                             f'"{model.name}"')
            if not f.mount_path:
                report.error(f"{path}.mountPath", f'extension mount path is required for '
                             f'extension "{model.name}"')
            elif f.mount_path in mounts:
                report.error(f"{path}.mountPath", f'duplicate mountPath "{f.mount_path}"')
            mounts.add(f.mount_path or "")
    if isinstance(model, NetworkRuleConfig):
        sel = model.port_selector
        if sel is None or not sel.ports:
            report.error(f"{label}.portSelector.ports", "portSelector.ports is required")
        elif sel.protocol is None:
            report.error(f"{label}.portSelector.protocol", "required field is missing")
        if sel is not None and sel.ports:
            ranges = sorted((_port_bounds(p), p) for p in sel.ports)
            for (bounds, text), (prev, prev_text) in zip(ranges[1:], ranges, strict=False):
                if bounds[0] <= prev[1]:
                    report.error(f"{label}.portSelector.ports", f'invalid port range: "{text}",'
                                 f' overlaps with "{prev_text}"')
        for i, rule in enumerate(model.ingress or []):
            if not rule.subnet:
                report.error(f"{label}.ingress[{i}].subnet", "invalid subnet: required field "
                             "is missing")


def _is_host_port(value: str) -> bool:
    host, sep, _ = value.rpartition(":")
    if not sep:
        return False
    if host.startswith("["):
        return host.endswith("]")
    return ":" not in host


def validate_documents(documents: Sequence[ConfigDocument], mode: str = "metal", *,
                       strict: bool = False, source: str = "<config>") -> list[str]:
    """Check a config's documents for `mode`; the warnings, or InvalidConfig naming every
    problem (`source` names the config)."""
    if mode not in MODES:
        raise InvalidArgument(f'unknown mode "{mode}": expected one of {", ".join(MODES)}')
    report = _Report()
    v1 = v1alpha1_of(documents)
    if v1 is not None:
        _check_v1alpha1(report, v1, mode)
    for doc in documents:
        _check_document(report, doc.label, doc.model, v1)
    if strict:
        report.problems += [Problem(w.path, f"warning: {w.message}") for w in report.warnings]
        report.warnings = []
    if report.problems:
        raise InvalidConfig(report.problems, source=source)
    return [str(w) for w in report.warnings]
