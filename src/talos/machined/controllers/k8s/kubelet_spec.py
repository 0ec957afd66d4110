"""k8s.KubeletSpecController: `KubeletSpecs.kubernetes.talos.dev/kubelet`, what the kubelet
service runs: image, arguments, mounts and its KubeletConfiguration, from `KubeletConfig`,
`NodeIPConfig`, the node's hostname and its current addresses.

Arguments follow Talos: the node's fixed flags, `--hostname-override` (the hostname),
`--node-ip` (the first current address inside the valid and outside the excluded subnets,
left out while there is none), then `extraArgs` (which win), sorted by flag. The
KubeletConfiguration is Talos's defaults with `extraConfig` merged over them.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.cosi.resource import Pointer
from talos.machinery.resources.argvalues import flag_pairs
from talos.machinery.resources.k8s import (
    KUBELET_CONFIG,
    KUBELET_ID,
    KUBELET_SPEC,
    NODE_IP_CONFIG,
    KubeletConfigSpec,
    KubeletSpecSpec,
    NodeIPConfigSpec,
)
from talos.machinery.resources.network import HOSTNAME_STATUS, NODE_ADDRESS

MANIFESTS_DIR = "/etc/kubernetes/manifests"
KUBELET_YAML = "/etc/kubernetes/kubelet.yaml"


def _in_any(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, subnets: tuple[str, ...]
            ) -> bool:
    for s in subnets:
        try:
            net = ipaddress.ip_network(s, strict=False)
        except ValueError:
            continue
        if net.version == ip.version and ip in net:
            return True
    return False


def pick_node_ip(addresses: tuple[str, ...], cfg: NodeIPConfigSpec) -> str:
    """The first address (IPv4 before IPv6) allowed by `cfg`, "" if none is."""
    ips = []
    for prefix in addresses:
        try:
            ips.append(ipaddress.ip_interface(prefix).ip)
        except ValueError:
            continue
    ips.sort(key=lambda ip: ip.version)
    for ip in ips:
        if _in_any(ip, cfg.valid_subnets) and not _in_any(ip, cfg.exclude_subnets):
            return str(ip)
    return ""


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) \
            else v
    return out


def kubelet_configuration(cfg: KubeletConfigSpec) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": "0.0.0.0",
        "port": 10250,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
        },
        "authorization": {"mode": "Webhook"},
        "cgroupRoot": "/",
        "clusterDomain": cfg.cluster_domain,
        "clusterDNS": list(cfg.cluster_dns),
        "failSwapOn": False,
        "protectKernelDefaults": True,
        "rotateCertificates": True,
        "serializeImagePulls": False,
        "seccompDefault": cfg.default_runtime_seccomp_enabled,
        "systemReserved": {"cpu": "50m", "pid": "100", "memory": "192Mi",
                           "ephemeral-storage": "256Mi"},
    }
    if not cfg.disable_manifests_directory:
        conf["staticPodPath"] = MANIFESTS_DIR
    if cfg.static_pod_list_url:
        conf["staticPodURL"] = cfg.static_pod_list_url
    if cfg.skip_node_registration:
        conf["registerNode"] = False
    return _merge(conf, dict(cfg.extra_config))


def kubelet_spec(cfg: KubeletConfigSpec, node_ip: str, nodename: str) -> KubeletSpecSpec:
    flags: dict[str, str] = {
        "bootstrap-kubeconfig": "/etc/kubernetes/bootstrap-kubeconfig",
        "cert-dir": "/var/lib/kubelet/pki",
        "config": KUBELET_YAML,
        "kubeconfig": "/etc/kubernetes/kubeconfig-kubelet",
    }
    if nodename:
        flags["hostname-override"] = nodename
    if node_ip:
        flags["node-ip"] = node_ip
    if cfg.cloud_provider_external:
        flags["cloud-provider"] = "external"
    pairs = sorted([*((k, v) for k, v in flags.items() if k not in cfg.extra_args),
                    *flag_pairs(cfg.extra_args)], key=lambda kv: kv[0])
    return KubeletSpecSpec(image=cfg.image,
                           args=tuple(f"--{k}={v}" for k, v in pairs),
                           extra_mounts=cfg.extra_mounts, expected_nodename=nodename,
                           config=kubelet_configuration(cfg))


class KubeletSpecController:
    name = "k8s.KubeletSpecController"
    inputs: tuple[Input, ...] = (Input.of(KUBELET_CONFIG, id=KUBELET_ID),
                                 Input.of(NODE_IP_CONFIG, id=KUBELET_ID),
                                 Input.of(HOSTNAME_STATUS, id="hostname"),
                                 Input.of(NODE_ADDRESS, id="current"))
    outputs: tuple[Output, ...] = (Output.of(KUBELET_SPEC),)

    async def run(self, r: ControllerContext) -> None:
        ns, rtype = KUBELET_SPEC.default_namespace, KUBELET_SPEC.type
        async for _ in r.wake_ups():
            cfg = await r.get(KUBELET_CONFIG.default_namespace, KUBELET_CONFIG.type,
                              KUBELET_ID)
            if cfg is None:
                if await r.get(ns, rtype, KUBELET_ID) is not None:
                    await r.destroy(Pointer(ns, rtype, KUBELET_ID))
                continue
            ipcfg = await r.get(NODE_IP_CONFIG.default_namespace, NODE_IP_CONFIG.type,
                                KUBELET_ID)
            host = await r.get(HOSTNAME_STATUS.default_namespace, HOSTNAME_STATUS.type,
                               "hostname")
            addrs = await r.get(NODE_ADDRESS.default_namespace, NODE_ADDRESS.type, "current")
            node_ip = pick_node_ip(addrs.spec.addresses, ipcfg.spec) \
                if addrs is not None and ipcfg is not None else ""
            nodename = host.spec.hostname.lower() if host is not None else ""
            await r.put(ns, rtype, KUBELET_ID, kubelet_spec(cfg.spec, node_ip, nodename))
