"""What the etcd member of this node is: derived from the machine config and the host.

- name: the node's hostname (Talos names members after hosts).
- advertised address: the first address matching `cluster.etcd.advertisedSubnets`
  (a subnet filter; `!` excludes). A single-address subnet (`/32`, `/128`) inside a network of
  a local interface is used as is, so nodes in plain mode can share the host's loopback
  (127.0.0.0/8) with one address each. Without filters: the first global address of the host
  (the sandbox's veth), else 127.0.0.1.
- join peers: the host of `cluster.controlPlane.endpoint` (the local cluster points it at the
  first control plane), unless that is this node's own address; a node whose own address is
  the endpoint waits for `Bootstrap` instead of joining.
- listen addresses: the advertised address, plus every local address matching
  `cluster.etcd.listenSubnets` when set (etcd is not made to listen on every address by
  default: nodes in plain mode share the host's loopback).
- extraArgs: `cluster.etcd.extraArgs`, except the flags the node manages itself.

Subnet filters and extraArgs are read from the `EtcdConfig` resource (see
`talos.machined.controllers.etcd.config`), so the service runs what `talosctl get etcdconfig`
shows.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psutil

from talos.machined.apply.reboot_fields import v1alpha1_tree
from talos.machined.controllers.etcd.config import etcd_config_spec
from talos.machinery.config import load_config
from talos.machinery.errors import InvalidConfig, Problem
from talos.machinery.pki import CertificateAndKey
from talos.machinery.resources.etcd import EtcdConfigSpec

CLIENT_PORT = 2379
PEER_PORT = 2380

#: flags the node sets itself; extraArgs may not change them (Talos has the same deny list)
MANAGED_FLAGS = frozenset({
    "name", "data-dir", "initial-cluster-state", "initial-cluster", "listen-peer-urls",
    "listen-client-urls", "cert-file", "key-file", "trusted-ca-file", "client-cert-auth",
    "peer-client-cert-auth", "peer-cert-file", "peer-trusted-ca-file", "peer-key-file",
})

IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class EtcdSettings:
    name: str
    address: str
    ca: CertificateAndKey
    cluster_token: str = "talos"
    extra_args: tuple[tuple[str, str], ...] = ()
    join_peers: tuple[str, ...] = ()
    client_port: int = CLIENT_PORT
    peer_port: int = PEER_PORT
    sans: tuple[str, ...] = field(default=())
    #: more local addresses etcd listens on (`listenSubnets`), besides `address`
    listen: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        return f"[{self.address}]" if ":" in self.address else self.address

    def listen_urls(self, port: int) -> str:
        """`--listen-*-urls`: the advertised address, then the listenSubnets matches."""
        hosts = [f"[{a}]" if ":" in a else a for a in (self.address, *self.listen)]
        return ",".join(f"https://{h}:{port}" for h in dict.fromkeys(hosts))

    @property
    def peer_url(self) -> str:
        return f"https://{self.host}:{self.peer_port}"

    @property
    def client_url(self) -> str:
        return f"https://{self.host}:{self.client_port}"

    @property
    def client_endpoint(self) -> str:
        return f"{self.host}:{self.client_port}"

    def peer_endpoints(self) -> list[str]:
        out = []
        for p in self.join_peers:
            host = f"[{p}]" if ":" in p else p
            out.append(f"{host}:{self.client_port}")
        return out


def _decode(value: str | None, path: str, problems: list[Problem]) -> bytes:
    if not value:
        problems.append(Problem(path, "is required on a control plane"))
        return b""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        problems.append(Problem(path, "is not valid base64"))
        return b""


def local_addresses() -> list[tuple[IPAddr, ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    out = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family not in (socket.AF_INET, socket.AF_INET6) or not a.netmask:
                continue
            try:
                ip = ipaddress.ip_address(a.address.split("%")[0])
                net = ipaddress.ip_interface(f"{ip}/{a.netmask}").network
            except ValueError:
                continue
            out.append((ip, net))
    return out


def pick_address(filters: Sequence[str],
                 local: Sequence[tuple[IPAddr, ipaddress.IPv4Network | ipaddress.IPv6Network]]
                 ) -> str | None:
    include = [ipaddress.ip_network(f, strict=False) for f in filters if not f.startswith("!")]
    exclude = [ipaddress.ip_network(f[1:], strict=False) for f in filters if f.startswith("!")]

    def allowed(ip: IPAddr) -> bool:
        return not any(ip.version == n.version and ip in n for n in exclude)

    if include:
        for net in include:
            if net.num_addresses == 1:
                ip = net.network_address
                if allowed(ip) and any(ip.version == n.version and ip in n for _, n in local):
                    return str(ip)
            for ip, _ in local:
                if ip.version == net.version and ip in net and allowed(ip):
                    return str(ip)
        return None
    candidates = [ip for ip, _ in local if ip.is_global or ip.is_private]
    candidates = [ip for ip in candidates if not ip.is_loopback and not ip.is_link_local
                  and allowed(ip)]
    candidates.sort(key=lambda ip: ip.version)  # IPv4 first, as etcd users expect
    if candidates:
        return str(candidates[0])
    return "127.0.0.1"


def listen_addresses(valid: Sequence[str], exclude: Sequence[str],
                     local: Sequence[tuple[IPAddr, ipaddress.IPv4Network | ipaddress.IPv6Network]]
                     ) -> list[str]:
    """Every local address inside one of `valid` and none of `exclude` (a single-address
    subnet inside a local network counts, as for the advertised address)."""
    nets = [ipaddress.ip_network(f, strict=False) for f in valid]
    excluded = [ipaddress.ip_network(f, strict=False) for f in exclude]
    out: list[str] = []
    for net in nets:
        candidates = [ip for ip, _ in local if ip.version == net.version and ip in net]
        if net.num_addresses == 1 and any(net.version == n.version and net.network_address in n
                                          for _, n in local):
            candidates.insert(0, net.network_address)
        for ip in candidates:
            if not any(ip.version == n.version and ip in n for n in excluded) \
                    and str(ip) not in out:
                out.append(str(ip))
    return out


def settings_from_config(raw: bytes, hostname: str,
                         etcd_config: EtcdConfigSpec | None = None) -> EtcdSettings:
    """Settings of this node's etcd member; InvalidConfig naming every problem.

    The advertised-address filters and extra flags come from `etcd_config` (the
    `EtcdConfigs.etcd.talos.dev/etcd` resource); without it they are derived from the config
    the same way `etcd.ConfigController` derives the resource. The CA, cluster name and join
    peer come from the machine config itself."""
    full = load_config(raw)
    cfg = full.v1alpha1
    if etcd_config is None:
        etcd_config = etcd_config_spec(v1alpha1_tree(full)) or EtcdConfigSpec()
    problems: list[Problem] = []
    cluster = cfg.cluster if cfg is not None else None
    etcd = cluster.etcd if cluster is not None else None
    ca = etcd.ca if etcd is not None else None
    crt = _decode(ca.crt if ca else None, "cluster.etcd.ca.crt", problems)
    key = _decode(ca.key if ca else None, "cluster.etcd.ca.key", problems)
    filters = list(etcd_config.advertised_subnets)
    extra: list[tuple[str, str]] = []
    for k, v in etcd_config.flags():
        if k in MANAGED_FLAGS:
            problems.append(Problem(f"cluster.etcd.extraArgs.{k}",
                                    "is managed by the node and cannot be overridden"))
        else:
            extra.append((k, v))
    local = local_addresses()
    address = pick_address(filters, local)
    if address is None:
        problems.append(Problem("cluster.etcd.advertisedSubnets",
                                f"no address of this node matches {filters}"))
    listen: list[str] = []
    if etcd_config.listen_valid_subnets:
        listen = listen_addresses(etcd_config.listen_valid_subnets,
                                  etcd_config.listen_exclude_subnets, local)
        if not listen:
            problems.append(Problem("cluster.etcd.listenSubnets",
                                    "no address of this node matches "
                                    f"{list(etcd_config.listen_valid_subnets)}"))
    endpoint = (cluster.control_plane.endpoint if cluster is not None
                and cluster.control_plane is not None else None)
    peers: list[str] = []
    if endpoint:
        host = urlsplit(str(endpoint)).hostname
        if host and host != address:
            peers.append(host)
    if problems:
        raise InvalidConfig(problems, source="machine config (etcd)")
    assert address is not None
    token = (cluster.cluster_name if cluster is not None and cluster.cluster_name else "talos")
    return EtcdSettings(name=hostname or socket.gethostname(), address=address,
                        ca=CertificateAndKey(crt, key), cluster_token=str(token),
                        extra_args=tuple(extra), join_peers=tuple(peers),
                        sans=(hostname,) if hostname else (),
                        listen=tuple(a for a in listen if a != address))


def data_dir_state(path: str) -> str:
    """"empty", "member" (an etcd member's data) or "other" (something else is there)."""
    try:
        entries = os.listdir(path)
    except FileNotFoundError:
        return "empty"
    if not entries:
        return "empty"
    if os.path.isdir(os.path.join(path, "member")):
        return "member"
    return "other"
