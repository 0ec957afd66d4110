"""Generate machine configs and the admin talosconfig, as `talosctl gen config` does.

The output has the keys and defaults of Talos 1.10's generated `controlplane.yaml` and
`worker.yaml` (written without the doc comments, like `--with-docs=false
--with-examples=false`). Everything is YAML text: patching and validation happen on the
text through `talos.machinery.config` (load_config / apply_patches).
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from talos.machinery import goyaml, role
from talos.machinery.client.talosconfig import Context, Talosconfig
from talos.machinery.errors import InvalidArgument
from talos.machinery.pki.certificate import CertificateAndKey, encode_base64
from talos.machinery.secrets.bundle import SecretsBundle

#: Talos 1.10 defaults.
TALOS_VERSION = "v1.10.0"
DEFAULT_KUBERNETES_VERSION = "1.33.0"
DEFAULT_INSTALLER_IMAGE = f"ghcr.io/siderolabs/installer:{TALOS_VERSION}"
DEFAULT_INSTALL_DISK = "/dev/sda"
DEFAULT_DNS_DOMAIN = "cluster.local"
DEFAULT_POD_SUBNETS = ("10.244.0.0/16",)
DEFAULT_SERVICE_SUBNETS = ("10.96.0.0/12",)
DEFAULT_CONTROL_PLANE_PORT = 6443
DEFAULT_KUBEPRISM_PORT = 7445
KUBELET_IMAGE = "ghcr.io/siderolabs/kubelet"
APISERVER_IMAGE = "registry.k8s.io/kube-apiserver"
CONTROLLER_MANAGER_IMAGE = "registry.k8s.io/kube-controller-manager"
PROXY_IMAGE = "registry.k8s.io/kube-proxy"
SCHEDULER_IMAGE = "registry.k8s.io/kube-scheduler"
LABEL_EXCLUDE_FROM_EXTERNAL_LB = "node.kubernetes.io/exclude-from-external-load-balancers"

_K8S_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")


def _fixed_endpoint(endpoint: str) -> str:
    """What Talos suggests after `try:`: https, the same host, port 6443 unless given."""
    rest = endpoint.split("://", 1)[-1]
    netloc = urllib.parse.urlsplit(f"//{rest}").netloc
    try:
        has_port = urllib.parse.urlsplit(f"//{netloc}").port is not None
    except ValueError:
        has_port = False
    return f"https://{netloc}" if has_port else f"https://{netloc}:{DEFAULT_CONTROL_PLANE_PORT}"


def validate_cluster_endpoint(endpoint: str) -> str:
    """The Kubernetes API endpoint must be an https URL with a host; returns its host."""
    if not endpoint.strip():
        raise InvalidArgument("cluster endpoint is required")
    if "://" not in endpoint:
        has_port = re.search(r":\d+$", endpoint) is not None
        what = "no scheme specified" if has_port else "no scheme and port specified"
        raise InvalidArgument(f"{what} for the cluster endpoint URL\n"
                              f"try: \"{_fixed_endpoint(endpoint)}\"")
    url = urllib.parse.urlsplit(endpoint)
    if url.scheme != "https":
        raise InvalidArgument("the control plane endpoint URL should have scheme https://\n"
                              f"try: \"{_fixed_endpoint(endpoint)}\"")
    try:
        host = url.hostname
        url.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as e:
        raise InvalidArgument(f"error validating the cluster endpoint URL: {e}") from None
    if not host:
        raise InvalidArgument(f"error validating the cluster endpoint URL: {endpoint!r} "
                              "has no host")
    return host


@dataclass(frozen=True)
class GenerateOptions:
    """Inputs of `talosctl gen config <cluster-name> <endpoint>`."""

    cluster_name: str
    endpoint: str
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    install_disk: str = DEFAULT_INSTALL_DISK
    install_image: str = DEFAULT_INSTALLER_IMAGE
    additional_sans: tuple[str, ...] = ()
    dns_domain: str = DEFAULT_DNS_DOMAIN
    pod_subnets: tuple[str, ...] = DEFAULT_POD_SUBNETS
    service_subnets: tuple[str, ...] = DEFAULT_SERVICE_SUBNETS
    discovery: bool = True
    kubespan: bool = False
    #: (registry host, mirror URL) pairs, as `--registry-mirror host=url`
    registry_mirrors: tuple[tuple[str, str], ...] = ()
    debug: bool = False
    allow_scheduling_on_control_planes: bool = False
    #: endpoints written into the generated talosconfig context (Talos writes none)
    talosconfig_endpoints: tuple[str, ...] = ()
    #: roles of the generated talosconfig's client certificate
    roles: tuple[str, ...] = (role.ADMIN,)

    @property
    def k8s_version(self) -> str:
        return self.kubernetes_version.removeprefix("v")

    def validate(self) -> None:
        """Raise InvalidArgument naming the first bad option (flag name included)."""
        if not self.cluster_name:
            raise InvalidArgument("cluster name is required")
        if not _CLUSTER_NAME.match(self.cluster_name):
            raise InvalidArgument(f"invalid cluster name {self.cluster_name!r}: expected "
                                  "letters, digits, '.', '_' or '-' (at most 63)")
        validate_cluster_endpoint(self.endpoint)
        if not _K8S_VERSION.match(self.kubernetes_version):
            raise InvalidArgument(f"--kubernetes-version: invalid version "
                                  f"{self.kubernetes_version!r} (expected e.g. 1.33.0)")
        labels = self.dns_domain.rstrip(".").split(".")
        if not self.dns_domain or not all(_DNS_LABEL.match(label) for label in labels):
            raise InvalidArgument(f"--dns-domain: {self.dns_domain!r} is not a valid DNS domain")
        for san in self.additional_sans:
            if not san or any(c.isspace() for c in san) or "/" in san:
                raise InvalidArgument(f"--additional-sans: {san!r} is not an IP address or "
                                      "DNS name")
        for host, url in self.registry_mirrors:
            parsed = urllib.parse.urlsplit(url)
            if not host or parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise InvalidArgument(f"--registry-mirror: invalid registry mirror spec "
                                      f"{host}={url!r} (expected <registry host>=<mirror URL>)")
        for what, subnets in (("podSubnets", self.pod_subnets),
                              ("serviceSubnets", self.service_subnets)):
            for subnet in subnets:
                try:
                    ipaddress.ip_network(subnet)
                except ValueError:
                    raise InvalidArgument(f"cluster.network.{what}: invalid CIDR {subnet!r}"
                                          ) from None

    def api_server_sans(self) -> list[str]:
        return [validate_cluster_endpoint(self.endpoint), *self.additional_sans]


def _pair(pair: CertificateAndKey, *, with_key: bool = True) -> dict[str, Any]:
    return {"crt": encode_base64(pair.crt),
            "key": encode_base64(pair.key) if with_key else DoubleQuotedScalarString("")}


def _machine(options: GenerateOptions, bundle: SecretsBundle, machine_type: str
             ) -> dict[str, Any]:
    controlplane = machine_type in ("controlplane", "init")
    machine: dict[str, Any] = {
        "type": machine_type,
        "token": bundle.trustd_token,
        "ca": _pair(bundle.os, with_key=controlplane),
        "certSANs": list(options.additional_sans),
        "kubelet": {
            "image": f"{KUBELET_IMAGE}:v{options.k8s_version}",
            "defaultRuntimeSeccompProfileEnabled": True,
            "disableManifestsDirectory": True,
        },
        "network": {"kubespan": {"enabled": True}} if options.kubespan else {},
        "install": {
            "disk": options.install_disk,
            "image": options.install_image,
            "wipe": False,
        },
        "features": {
            "rbac": True,
            "stableHostname": True,
            "apidCheckExtKeyUsage": True,
            "diskQuotaSupport": True,
            "kubePrism": {"enabled": True, "port": DEFAULT_KUBEPRISM_PORT},
            "hostDNS": {"enabled": True, "forwardKubeDNSToHost": True},
        },
    }
    if options.registry_mirrors:
        mirrors: dict[str, Any] = {}
        for host, url in options.registry_mirrors:
            mirrors.setdefault(host, {"endpoints": []})["endpoints"].append(url)
        # Talos's field order: install, registries, features
        features = machine.pop("features")
        machine["registries"] = {"mirrors": mirrors}
        machine["features"] = features
    if controlplane:
        machine["nodeLabels"] = {LABEL_EXCLUDE_FROM_EXTERNAL_LB: DoubleQuotedScalarString("")}
    return machine


def _discovery(enabled: bool) -> dict[str, Any]:
    return {"enabled": enabled,
            "registries": {"kubernetes": {"disabled": True}, "service": {}}}


def _pod_security() -> dict[str, Any]:
    return {
        "name": "PodSecurity",
        "configuration": {
            "apiVersion": "pod-security.admission.config.k8s.io/v1alpha1",
            "defaults": {
                "audit": "restricted", "audit-version": "latest",
                "enforce": "baseline", "enforce-version": "latest",
                "warn": "restricted", "warn-version": "latest",
            },
            "exemptions": {"namespaces": ["kube-system"], "runtimeClasses": [],
                           "usernames": []},
            "kind": "PodSecurityConfiguration",
        },
    }


def _cluster(options: GenerateOptions, bundle: SecretsBundle, machine_type: str
             ) -> dict[str, Any]:
    controlplane = machine_type in ("controlplane", "init")
    cluster: dict[str, Any] = {
        "id": bundle.cluster_id,
        "secret": bundle.cluster_secret,
        "controlPlane": {"endpoint": options.endpoint},
        "clusterName": options.cluster_name,
        "network": {
            "dnsDomain": options.dns_domain,
            "podSubnets": list(options.pod_subnets),
            "serviceSubnets": list(options.service_subnets),
        },
        "token": bundle.bootstrap_token,
    }
    if not controlplane:
        cluster["ca"] = _pair(bundle.k8s, with_key=False)
        cluster["discovery"] = _discovery(options.discovery)
        return cluster
    if bundle.secretbox_encryption_secret:
        cluster["secretboxEncryptionSecret"] = bundle.secretbox_encryption_secret
    else:
        cluster["aescbcEncryptionSecret"] = bundle.aescbc_encryption_secret
    version = options.k8s_version
    cluster.update({
        "ca": _pair(bundle.k8s),
        "aggregatorCA": _pair(bundle.k8s_aggregator),
        "serviceAccount": {"key": encode_base64(bundle.k8s_service_account_key)},
        "apiServer": {
            "image": f"{APISERVER_IMAGE}:v{version}",
            "certSANs": options.api_server_sans(),
            "disablePodSecurityPolicy": True,
            "admissionControl": [_pod_security()],
            "auditPolicy": {"apiVersion": "audit.k8s.io/v1", "kind": "Policy",
                            "rules": [{"level": "Metadata"}]},
        },
        "controllerManager": {"image": f"{CONTROLLER_MANAGER_IMAGE}:v{version}"},
        "proxy": {"image": f"{PROXY_IMAGE}:v{version}"},
        "scheduler": {"image": f"{SCHEDULER_IMAGE}:v{version}"},
    })
    cluster["discovery"] = _discovery(options.discovery)
    cluster["etcd"] = {"ca": _pair(bundle.etcd)}
    cluster["extraManifests"] = []
    cluster["inlineManifests"] = []
    if options.allow_scheduling_on_control_planes:
        cluster["allowSchedulingOnControlPlanes"] = True
    return cluster


def machine_config(options: GenerateOptions, bundle: SecretsBundle,
                   machine_type: str) -> str:
    """The v1alpha1 document for `controlplane`, `init` or `worker`, as YAML text."""
    if machine_type not in ("controlplane", "init", "worker"):
        raise InvalidArgument(f"unknown machine type {machine_type!r} "
                              "(expected controlplane, init or worker)")
    options.validate()
    document = {
        "version": "v1alpha1",
        "debug": options.debug,
        "persist": True,
        "machine": _machine(options, bundle, machine_type),
        "cluster": _cluster(options, bundle, machine_type),
    }
    return goyaml.dump(document)


def talosconfig(options: GenerateOptions, bundle: SecretsBundle) -> Talosconfig:
    """The admin client config: context named after the cluster, an ECDSA client certificate
    with the roles in its Subject O, signed by the OS CA (which must be gRPC-capable)."""
    client = bundle.client_certificate(options.roles)
    context = Context.from_pems(endpoints=options.talosconfig_endpoints,
                                ca=bundle.os.crt, client=client)
    return Talosconfig(context=options.cluster_name,
                       contexts={options.cluster_name: context})


@dataclass(frozen=True)
class GeneratedConfigs:
    controlplane: str
    worker: str
    talosconfig: Talosconfig
    secrets: SecretsBundle


def generate(options: GenerateOptions, bundle: SecretsBundle | None = None, *,
             with_talosconfig: bool = True) -> GeneratedConfigs:
    """controlplane.yaml, worker.yaml and the talosconfig from one secrets bundle
    (a fresh one when none is given)."""
    options.validate()
    bundle = bundle if bundle is not None else SecretsBundle.generate()
    return GeneratedConfigs(
        controlplane=machine_config(options, bundle, "controlplane"),
        worker=machine_config(options, bundle, "worker"),
        talosconfig=talosconfig(options, bundle) if with_talosconfig else Talosconfig(),
        secrets=bundle,
    )
