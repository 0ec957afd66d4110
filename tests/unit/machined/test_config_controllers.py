"""Controllers that derive resources from the MachineConfig, on the controller harness:
MachineType, EtcdConfig (and the etcd settings handed to the service), KubeletConfig,
NodeIPConfig, KubeletSpec and the control-plane StaticPods."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from talos.cosi.testing import ControllerHarness
from talos.machined.config import parse_config
from talos.machined.controllers.config.machine_type import MachineTypeController
from talos.machined.controllers.etcd.config import ConfigController, etcd_config_spec
from talos.machined.controllers.etcd.spec import SpecController
from talos.machined.controllers.k8s.defaults import cluster_dns
from talos.machined.controllers.k8s.kubelet_config import (
    KubeletConfigController,
    kubelet_config_spec,
)
from talos.machined.controllers.k8s.kubelet_spec import (
    KubeletSpecController,
    kubelet_spec,
    pick_node_ip,
)
from talos.machined.controllers.k8s.nodeip_config import NodeIPConfigController
from talos.machined.controllers.k8s.static_pods import StaticPodController, static_pods
from talos.machined.etcd.factory import settings_for
from talos.machinery.config.generate import GenerateOptions, generate
from talos.machinery.errors import InvalidConfig
from talos.machinery.resources.config import (
    ACTIVE_ID,
    MACHINE_CONFIG,
    MACHINE_TYPE,
    MACHINE_TYPE_ID,
    MachineConfigSpec,
    MachineTypeSpec,
)
from talos.machinery.resources.etcd import ETCD_CONFIG, ETCD_CONFIG_ID, ArgValues, EtcdConfigSpec
from talos.machinery.resources.k8s import (
    KUBELET_CONFIG,
    KUBELET_ID,
    KUBELET_SPEC,
    NODE_IP_CONFIG,
    STATIC_POD,
    KubeletConfigSpec,
    NodeIPConfigSpec,
)
from talos.machinery.resources.network import (
    HOSTNAME_STATUS,
    NODE_ADDRESS,
    HostnameStatusSpec,
    NodeAddressSpec,
)

WORKER = """version: v1alpha1
machine:
  type: worker
  kubelet:
    extraArgs:
      max-pods: "50"
    nodeIP:
      validSubnets: ["10.5.0.0/24", "!10.5.0.9/32"]
cluster:
  controlPlane:
    endpoint: https://10.5.0.2:6443
"""


def control_plane(**etcd: Any) -> str:
    import io

    from ruamel.yaml import YAML
    text = generate(GenerateOptions(cluster_name="unit",
                                    endpoint="https://10.5.0.2:6443")).controlplane
    yaml = YAML()
    docs = list(yaml.load_all(text))
    docs[0]["cluster"]["etcd"].update(etcd)
    out = io.StringIO()
    yaml.dump_all(docs, out)
    return out.getvalue()


CONTROLLERS = (MachineTypeController, ConfigController, KubeletConfigController,
               NodeIPConfigController, KubeletSpecController, StaticPodController)


async def test_control_plane_then_worker() -> None:
    seen: list[EtcdConfigSpec | None] = []

    async def apply(spec: EtcdConfigSpec | None) -> str:
        seen.append(spec)
        h.changed()
        return ""

    def etcd_told(check: Callable[[EtcdConfigSpec | None], bool]) -> bool | None:
        return (bool(seen) and check(seen[-1])) or None

    async with ControllerHarness(*(c() for c in CONTROLLERS), SpecController(apply)) as h:
        await h.until_output(MACHINE_TYPE, MACHINE_TYPE_ID,
                             lambda s: s.machine_type == "unknown")

        await h.put(MACHINE_CONFIG, ACTIVE_ID, MachineConfigSpec(control_plane(
            extraArgs={"election-timeout": "5000"},
            advertisedSubnets=["10.5.0.0/24", "!10.5.0.1/32"])))
        etcd = (await h.until_output(ETCD_CONFIG, ETCD_CONFIG_ID)).spec
        assert etcd.advertise_valid_subnets == ("10.5.0.0/24",)
        assert etcd.advertise_exclude_subnets == ("10.5.0.1/32",)
        assert etcd.extra_args == {"election-timeout": ArgValues(("5000",))}
        assert etcd.image.startswith("gcr.io/etcd-development/etcd:")
        await h.until("etcd to be handed the EtcdConfig",
                      lambda: etcd_told(lambda s: s is not None and bool(s.extra_args)))
        pods = await h.until_outputs(STATIC_POD, lambda out: len(out) == 3)
        assert sorted(pods) == ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]
        await h.until_output(MACHINE_TYPE, MACHINE_TYPE_ID,
                             lambda s: s.machine_type == "controlplane")

        await h.put(MACHINE_CONFIG, ACTIVE_ID, MachineConfigSpec(WORKER))
        await h.until_gone(ETCD_CONFIG, ETCD_CONFIG_ID)
        await h.until_outputs(STATIC_POD, lambda out: not out)
        await h.until_output(MACHINE_TYPE, MACHINE_TYPE_ID,
                             lambda s: s.machine_type == "worker")
        await h.until("etcd to be told EtcdConfig is gone", lambda: etcd_told(
            lambda s: s is None))

        # the kubelet spec follows the hostname and the addresses
        await h.put(HOSTNAME_STATUS, "hostname", HostnameStatusSpec("Worker-1"), owner="x")
        await h.put(NODE_ADDRESS, "current", NodeAddressSpec(("10.5.0.9/24", "10.5.0.3/24")),
                    owner="y")
        spec = (await h.until_output(KUBELET_SPEC, KUBELET_ID,
                                     lambda s: "--node-ip=10.5.0.3" in s.args)).spec
        assert "--hostname-override=worker-1" in spec.args and "--max-pods=50" in spec.args
        assert spec.expected_nodename == "worker-1"
        assert h.outputs(KUBELET_CONFIG)[KUBELET_ID].extra_args == {
            "max-pods": ArgValues(("50",))}
        assert h.outputs(NODE_IP_CONFIG)[KUBELET_ID].exclude_subnets[0] == "10.5.0.9/32"


async def test_without_a_config_the_kubelet_resources_go() -> None:
    async with ControllerHarness(*(c() for c in CONTROLLERS)) as h:
        await h.put(MACHINE_CONFIG, ACTIVE_ID, MachineConfigSpec(WORKER))
        await h.until_output(KUBELET_SPEC, KUBELET_ID)
        await h.destroy(MACHINE_CONFIG, ACTIVE_ID)
        await h.until_gone(KUBELET_SPEC, KUBELET_ID)
        await h.settled()
        assert h.outputs(KUBELET_CONFIG) == h.outputs(NODE_IP_CONFIG) == {}
        assert h.outputs(MACHINE_TYPE) == {MACHINE_TYPE_ID: MachineTypeSpec("unknown")}


def test_etcd_config_splits_filters_and_keeps_repeated_flags() -> None:
    tree = {"machine": {"type": "init"},
            "cluster": {"etcd": {"listenSubnets": ["!10.0.0.0/8", "0.0.0.0/0"],
                                 "extraArgs": {"b": ["1", "2"], "a": 3},
                                 "image": "my/etcd:v1"}}}
    spec = etcd_config_spec(tree)
    assert spec is not None
    assert spec.listen_valid_subnets == ("0.0.0.0/0",)
    assert spec.listen_exclude_subnets == ("10.0.0.0/8",)
    assert spec.flags() == (("a", "3"), ("b", "1"), ("b", "2"))
    assert spec.image == "my/etcd:v1"
    assert etcd_config_spec({"machine": {"type": "worker"}}) is None


def test_etcd_settings_come_from_the_etcd_config_resource() -> None:
    cfg = parse_config(control_plane().encode())
    spec = EtcdConfigSpec(advertise_valid_subnets=("127.0.0.1/32",),
                          extra_args={"max-txn-ops": ArgValues(("300",))})
    settings, error = settings_for(cfg, "cp", spec)
    assert error == "" and settings is not None
    assert settings.address == "127.0.0.1"
    assert settings.extra_args == (("max-txn-ops", "300"),)
    bad = EtcdConfigSpec(extra_args={"data-dir": ArgValues(("/tmp/x",))})
    settings, error = settings_for(cfg, "cp", bad)
    assert settings is None and "cluster.etcd.extraArgs.data-dir" in error
    with pytest.raises(InvalidConfig):
        from talos.machined.etcd.settings import settings_from_config
        settings_from_config(cfg.raw, "cp", bad)


def test_kubelet_defaults_and_extra_config() -> None:
    tree = {"machine": {"type": "worker", "kubelet": {
                "extraConfig": {"serializeImagePulls": True, "authentication": {
                    "anonymous": {"enabled": True}}},
                "extraMounts": [{"destination": "/var/x", "source": "/var/x",
                                 "options": ["bind", "rw"]}]}},
            "cluster": {"network": {"serviceSubnets": ["10.96.0.0/12", "fd00::/108"],
                                    "dnsDomain": "example.local"}}}
    cfg = kubelet_config_spec(tree)
    assert cfg is not None
    assert cfg.cluster_dns == ("10.96.0.10", "fd00::a")
    assert cfg.cluster_domain == "example.local"
    assert cfg.extra_mounts[0].options == ("bind", "rw")
    spec = kubelet_spec(cfg, "", "n")
    assert not any(a.startswith("--node-ip") for a in spec.args)
    assert spec.config["serializeImagePulls"] is True
    assert spec.config["authentication"]["anonymous"] == {"enabled": True}
    assert spec.config["authentication"]["webhook"] == {"enabled": True}
    assert spec.config["clusterDNS"] == ["10.96.0.10", "fd00::a"]
    assert cluster_dns({"machine": {"kubelet": {"clusterDNS": ["1.1.1.1"]}}}) == ("1.1.1.1",)


def test_node_ip_prefers_ipv4_and_honours_exclusions() -> None:
    cfg = NodeIPConfigSpec(valid_subnets=("0.0.0.0/0", "::/0"),
                           exclude_subnets=("10.244.0.0/16",))
    assert pick_node_ip(("fd00::5/64", "10.244.1.1/24", "192.168.1.4/24"), cfg) == \
        "192.168.1.4"
    assert pick_node_ip(("10.244.1.1/24",), cfg) == ""


def test_static_pods_render_extra_args_env_volumes_and_resources() -> None:
    tree = {"machine": {"type": "controlplane"},
            "cluster": {"controlPlane": {"endpoint": "https://cp:6443"},
                        "scheduler": {"extraArgs": {"leader-elect": "false"},
                                      "env": {"B": "2", "A": "1"},
                                      "extraVolumes": [{"hostPath": "/h", "mountPath": "/m",
                                                        "readonly": True}],
                                      "resources": {"limits": {"memory": "1Gi"}}}}}
    pods = static_pods(tree)
    assert sorted(pods) == ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]
    sched = pods["kube-scheduler"]["spec"]
    c = sched["containers"][0]
    assert "--leader-elect=false" in c["command"] and "--leader-elect=true" not in c["command"]
    assert c["command"][1:] == sorted(c["command"][1:])
    assert c["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert c["volumeMounts"][0]["readOnly"] is True
    assert sched["volumes"][0]["hostPath"]["path"] == "/h"
    assert c["resources"]["limits"] == {"memory": "1Gi"}
    api = pods["kube-apiserver"]["spec"]["containers"][0]["command"]
    assert "--service-account-issuer=https://cp:6443" in api
    assert static_pods({"machine": {"type": "worker"}}) == {}


def test_listen_subnets_add_listen_addresses() -> None:
    import ipaddress

    from talos.machined.etcd.settings import EtcdSettings, listen_addresses

    local = [(ipaddress.ip_address("10.5.0.3"), ipaddress.ip_network("10.5.0.0/24")),
             (ipaddress.ip_address("192.168.1.4"), ipaddress.ip_network("192.168.1.0/24")),
             (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_network("127.0.0.0/8"))]
    assert listen_addresses(["0.0.0.0/0"], ["127.0.0.0/8"], local) == ["10.5.0.3",
                                                                       "192.168.1.4"]
    assert listen_addresses(["127.9.9.9/32"], [], local) == ["127.9.9.9"]
    assert listen_addresses(["172.16.0.0/12"], [], local) == []
    s = EtcdSettings(name="n", address="10.5.0.3", ca=None,  # type: ignore[arg-type]
                     listen=("192.168.1.4", "fd00::1"))
    assert s.listen_urls(2379) == ("https://10.5.0.3:2379,https://192.168.1.4:2379,"
                                   "https://[fd00::1]:2379")


def test_kubelet_extra_args_repeat_flags_and_override_defaults() -> None:
    cfg = KubeletConfigSpec(extra_args={"feature-gates": ["A=true", "B=false"],
                                        "node-ip": "9.9.9.9"})
    args = kubelet_spec(cfg, "10.5.0.3", "worker-1").args
    assert [a for a in args if a.startswith("--feature-gates=")] == [
        "--feature-gates=A=true", "--feature-gates=B=false"]
    assert [a for a in args if a.startswith("--node-ip=")] == ["--node-ip=9.9.9.9"]
    assert list(args) == sorted(args, key=lambda a: a.split("=", 1)[0])
