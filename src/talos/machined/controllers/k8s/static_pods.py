"""k8s.StaticPodController: `StaticPods.kubernetes.talos.dev` for the control-plane
components (`kube-apiserver`, `kube-controller-manager`, `kube-scheduler`), rendered from
`cluster.apiServer`, `cluster.controllerManager` and `cluster.scheduler` on control planes
(none on workers).

Each is the pod manifest the kubelet would run: image, command with the node's flags and
`extraArgs` (which win; sorted by flag as Talos builds them), `env`, `extraVolumes` (host
paths) and `resources`. Kubernetes binaries are absent on this machine: the kubelet service
is `Skipped`, so nothing runs these pods; they show what would run (`talosctl get
staticpods`).
"""

from __future__ import annotations

from typing import Any

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.config_tree import at, v1alpha1
from talos.machined.controllers.k8s import defaults
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.k8s import STATIC_POD, StaticPodSpec

CONTROL_PLANE_TYPES = ("controlplane", "init")
SECRETS = "/system/secrets/kubernetes"
CONFIGS = "/system/config/kubernetes"

#: default resource requests, as Talos sets them
REQUESTS = {
    "kube-apiserver": {"cpu": "200m", "memory": "512Mi"},
    "kube-controller-manager": {"cpu": "50m", "memory": "256Mi"},
    "kube-scheduler": {"cpu": "10m", "memory": "64Mi"},
}


def _flags(tree: dict[str, Any], component: str) -> dict[str, str]:
    services = ",".join(defaults.service_subnets(tree))
    endpoint = str(at(tree, "cluster.controlPlane.endpoint") or "")
    external = bool(at(tree, "cluster.externalCloudProvider.enabled"))
    if component == "kube-apiserver":
        d = f"{SECRETS}/kube-apiserver"
        port = at(tree, "cluster.controlPlane.localAPIServerPort") or 6443
        flags = {
            "admission-control-config-file":
                f"{CONFIGS}/kube-apiserver/admission-control-config.yaml",
            "allow-privileged": "true",
            "api-audiences": endpoint,
            "authorization-mode": "Node,RBAC",
            "bind-address": "0.0.0.0",
            "client-ca-file": f"{d}/ca.crt",
            "enable-admission-plugins": "NodeRestriction",
            "etcd-cafile": f"{d}/etcd-client-ca.crt",
            "etcd-certfile": f"{d}/etcd-client.crt",
            "etcd-keyfile": f"{d}/etcd-client.key",
            "etcd-servers": "https://localhost:2379",
            "secure-port": str(port),
            "service-account-issuer": endpoint,
            "service-account-key-file": f"{d}/service-account.pub",
            "service-account-signing-key-file": f"{d}/service-account.key",
            "service-cluster-ip-range": services,
            "tls-cert-file": f"{d}/apiserver.crt",
            "tls-private-key-file": f"{d}/apiserver.key",
        }
    elif component == "kube-controller-manager":
        d = f"{SECRETS}/kube-controller-manager"
        flags = {
            "allocate-node-cidrs": "true",
            "authentication-kubeconfig": f"{d}/kubeconfig",
            "authorization-kubeconfig": f"{d}/kubeconfig",
            "bind-address": "127.0.0.1",
            "cluster-cidr": ",".join(defaults.pod_subnets(tree)),
            "cluster-signing-cert-file": f"{d}/ca.crt",
            "cluster-signing-key-file": f"{d}/ca.key",
            "configure-cloud-routes": "false",
            "controllers": "*,tokencleaner",
            "kubeconfig": f"{d}/kubeconfig",
            "leader-elect": "true",
            "profiling": "false",
            "root-ca-file": f"{d}/ca.crt",
            "service-account-private-key-file": f"{d}/service-account.key",
            "service-cluster-ip-range": services,
            "use-service-account-credentials": "true",
        }
    else:
        d = f"{SECRETS}/kube-scheduler"
        flags = {
            "authentication-kubeconfig": f"{d}/kubeconfig",
            "authorization-kubeconfig": f"{d}/kubeconfig",
            "bind-address": "127.0.0.1",
            "config": f"{CONFIGS}/kube-scheduler/scheduler-config.yaml",
            "kubeconfig": f"{d}/kubeconfig",
            "leader-elect": "true",
            "profiling": "false",
        }
    if external and component != "kube-scheduler":
        flags["cloud-provider"] = "external"
    return flags


def static_pod(tree: dict[str, Any], component: str, section: str) -> dict[str, Any]:
    """The pod manifest of one control-plane component (`section`: its key under
    `cluster`)."""
    flags = _flags(tree, component)
    flags.update(defaults.str_map(at(tree, f"cluster.{section}.extraArgs")))
    env = defaults.str_map(at(tree, f"cluster.{section}.env"))
    mounts: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    for i, v in enumerate(at(tree, f"cluster.{section}.extraVolumes") or ()):
        if not isinstance(v, dict):
            continue
        name = f"extra-volume-{i}"
        mounts.append({"name": name, "mountPath": str(v.get("mountPath") or ""),
                       "readOnly": bool(v.get("readonly"))})
        volumes.append({"name": name, "hostPath": {"path": str(v.get("hostPath") or "")}})
    resources = at(tree, f"cluster.{section}.resources")
    res: dict[str, Any] = {"requests": dict(REQUESTS[component])}
    if isinstance(resources, dict):
        for key in ("requests", "limits"):
            if isinstance(resources.get(key), dict):
                res[key] = {**res.get(key, {}), **defaults.str_map(resources[key])}
    container: dict[str, Any] = {
        "name": component,
        "image": defaults.image(tree, f"cluster.{section}.image", section),
        "command": [f"/usr/local/bin/{component}",
                    *(f"--{k}={v}" for k, v in sorted(flags.items()))],
        "resources": res,
    }
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    if mounts:
        container["volumeMounts"] = mounts
    spec: dict[str, Any] = {
        "priorityClassName": "system-cluster-critical",
        "hostNetwork": True,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65534},
        "containers": [container],
    }
    if volumes:
        spec["volumes"] = volumes
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": component, "namespace": "kube-system",
                     "labels": {"tier": "control-plane", "k8s-app": component}},
        "spec": spec,
    }


COMPONENTS = (("kube-apiserver", "apiServer"),
              ("kube-controller-manager", "controllerManager"),
              ("kube-scheduler", "scheduler"))


def static_pods(tree: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Pod manifests by resource ID; empty unless the config is a control plane's."""
    if str(at(tree, "machine.type") or "") not in CONTROL_PLANE_TYPES:
        return {}
    return {cid: static_pod(tree, cid, section) for cid, section in COMPONENTS}


class StaticPodController:
    name = "k8s.StaticPodController"
    inputs: tuple[Input, ...] = (Input.of(MACHINE_CONFIG, id=ACTIVE_ID),)
    outputs: tuple[Output, ...] = (Output.of(STATIC_POD),)

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            cfg = await r.get(MACHINE_CONFIG.default_namespace, MACHINE_CONFIG.type, ACTIVE_ID)
            r.start_tracking_outputs()
            for pid, pod in static_pods(v1alpha1(cfg)).items():
                await r.put(STATIC_POD.default_namespace, STATIC_POD.type, pid,
                            StaticPodSpec(pod))
            await r.cleanup_outputs()
