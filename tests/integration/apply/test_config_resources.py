"""Resources derived from the machine config, seen over the node API of a real machined
(plain mode): EtcdConfig and a live etcd reconfigured without a reboot, MachineType,
KubeletConfig/KubeletSpec, the control-plane StaticPods, their ResourceDefinitions, and the
validator's warnings in ApplyConfiguration replies."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import psutil
import pytest
from google.protobuf import empty_pb2
from ruamel.yaml import YAML

from talos.api.machine import machine_pb2 as m
from talos.api.v1alpha1 import state_pb2
from talos.machinery.config.generate import GenerateOptions, generate
from tests.integration.apid.harness import new_pki
from tests.integration.apply.harness import Machined, config, machined
from tests.integration.etcd.harness import needs_etcd, unique_subnet
from tests.integration.etcd.test_node_etcd import apid_in_front, talosconfig, talosctl

ETCD_CONFIG = ("etcd", "EtcdConfigs.etcd.talos.dev", "etcd")
KUBELET_SPEC = ("k8s", "KubeletSpecs.kubernetes.talos.dev", "kubelet")
KUBELET_CONFIG = ("k8s", "KubeletConfigs.kubernetes.talos.dev", "kubelet")
MACHINE_TYPE = ("config", "MachineTypes.config.talos.dev", "machine-type")
STATIC_POD = "StaticPods.kubernetes.talos.dev"


def edit(base: bytes, change: Any) -> bytes:
    """The config with `change(v1alpha1 document)` applied (comments and order kept)."""
    yaml = YAML()
    docs = list(yaml.load_all(base.decode()))
    change(docs[0])
    out = io.StringIO()
    yaml.dump_all(docs, out)
    return out.getvalue().encode()


def control_plane_config(address: str) -> bytes:
    configs = generate(GenerateOptions(cluster_name="cfg-res",
                                       endpoint=f"https://{address}:6443"))

    def set_node(doc: Any) -> None:
        doc["machine"].setdefault("network", {})["hostname"] = "cp-1"
        doc["cluster"].setdefault("etcd", {})["advertisedSubnets"] = [f"{address}/32"]
        doc["cluster"].setdefault("apiServer", {})["extraArgs"] = {"feature-gates": "Foo=true"}
    return edit(configs.controlplane.encode(), set_node)


def with_etcd_args(base: bytes, **args: str) -> bytes:
    def change(doc: Any) -> None:
        doc["cluster"]["etcd"]["extraArgs"] = {k.replace("_", "-"): v for k, v in args.items()}
    return edit(base, change)


def etcd_processes(n: Machined) -> list[psutil.Process]:
    """The etcd processes machined started (its children named etcd)."""
    assert n.proc is not None
    try:
        kids = psutil.Process(n.proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for p in kids:
        try:
            if p.name() == "etcd":
                out.append(p)
        except psutil.NoSuchProcess:
            continue
    return out


def cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.NoSuchProcess:
        return []


async def etcd_service(n: Machined) -> Any:
    resp = await n.api.ServiceList(empty_pb2.Empty(), timeout=10)
    return next(s for s in resp.messages[0].services if s.id == "etcd")


async def wait_etcd(n: Machined, flag: str | None) -> psutil.Process:
    """Until etcd runs healthy as one process (with `flag` on its command line if given)."""
    while True:
        svc = await etcd_service(n)
        procs = etcd_processes(n)
        if svc.state == "Running" and svc.health.healthy and len(procs) == 1 and (
                flag is None or flag in cmdline(procs[0])):
            return procs[0]
        # Finished/Failed are passing states while etcd restarts; Skipped never is
        assert svc.state != "Skipped", list(svc.events.events)
        assert n.proc is not None and n.proc.poll() is None, n.log()
        await asyncio.sleep(0.1)


@asynccontextmanager
async def control_plane(tmp: Path, seed: bytes) -> AsyncIterator[Machined]:
    leftovers: list[psutil.Process] = []
    try:
        async with machined(tmp, seed=seed) as node:
            try:
                yield node
            finally:
                leftovers = etcd_processes(node)  # while still machined's children
    finally:
        # never leave an etcd behind, whatever happened to machined (is_running also
        # compares the start time: a reused pid is left alone)
        for p in leftovers:
            try:
                if p.is_running():
                    p.kill()
            except psutil.NoSuchProcess:
                pass


async def get(n: Machined, key: tuple[str, str, str]) -> str | None:
    return await n.resource_text(*key)


async def list_ids(n: Machined, ns: str, rtype: str) -> list[str]:
    ids: list[str] = []
    call = n.cosi.List(state_pb2.ListRequest(namespace=ns, type=rtype), timeout=10)
    async for item in call:
        ids.append(item.resource.metadata.id)
    return sorted(ids)


@needs_etcd
async def test_etcd_extra_args_change_restarts_etcd_without_a_reboot(tmp_path: Path) -> None:
    address = f"{unique_subnet()}.1"
    base = control_plane_config(address)
    async with control_plane(tmp_path, base) as n:
        text = await n.wait_resource(*ETCD_CONFIG, "image:")
        assert f"{address}/32" in text
        await n.api.Bootstrap(m.BootstrapRequest(), timeout=30)
        first = await wait_etcd(n, None)
        assert not any(a.startswith("--max-txn-ops") for a in cmdline(first))

        # no-reboot: EtcdConfig follows, etcd is restarted with the flag, no reboot
        r = await n.apply(with_etcd_args(base, max_txn_ops="256"),
                          m.ApplyConfigurationRequest.NO_REBOOT)
        assert r.mode == m.ApplyConfigurationRequest.NO_REBOOT, r.mode_details
        assert "etcd reconfigured (cluster.etcd.extraArgs" in r.mode_details
        spec = await n.wait_resource(*ETCD_CONFIG, "max-txn-ops")
        assert "256" in spec
        second = await wait_etcd(n, "--max-txn-ops=256")
        assert second != first  # psutil compares pid and start time
        assert not first.is_running()

        # auto: the same in place (cluster.etcd is a no-reboot field)
        r = await n.apply(with_etcd_args(base, max_txn_ops="512"),
                          m.ApplyConfigurationRequest.AUTO)
        assert r.mode == m.ApplyConfigurationRequest.NO_REBOOT, r.mode_details
        assert "without a reboot" in r.mode_details
        third = await wait_etcd(n, "--max-txn-ops=512")
        assert third != second and not second.is_running()

        # the advertised address (with the endpoint that names it) moves in place too: etcd
        # listens there (and on the listenSubnets match) and the member's registered peer URL
        # follows
        moved = address.rsplit(".", 1)[0] + ".2"

        def move(doc: Any) -> None:
            doc["cluster"]["etcd"]["advertisedSubnets"] = [f"{moved}/32"]
            doc["cluster"]["etcd"]["listenSubnets"] = [f"{address}/32"]
            doc["cluster"]["controlPlane"]["endpoint"] = f"https://{moved}:6443"
        r = await n.apply(edit(with_etcd_args(base, max_txn_ops="512"), move),
                          m.ApplyConfigurationRequest.NO_REBOOT)
        assert "etcd reconfigured" in r.mode_details
        fourth = await wait_etcd(n, f"--advertise-client-urls=https://{moved}:2379")
        assert fourth != third and "--max-txn-ops=512" in cmdline(fourth)
        # listenSubnets: the advertised address, then the matching ones
        assert (f"--listen-client-urls=https://{moved}:2379,https://{address}:2379"
                in cmdline(fourth))
        while True:
            members = await n.api.EtcdMemberList(m.EtcdMemberListRequest(), timeout=10)
            peers = [u for mem in members.messages[0].members for u in mem.peer_urls]
            if peers == [f"https://{moved}:2380"]:
                break
            await asyncio.sleep(0.1)

        svc = await etcd_service(n)
        states = [e.state for e in svc.events.events]
        assert states.count("Stopping") >= 3 and states[-1] == "Running", states
        assert n.reboots() == 0
        # the data survived the restarts: still the bootstrapped member
        assert await n.resource_text("etcd", "EtcdMembers.etcd.talos.dev", "local") is not None


async def test_control_plane_resources_derive_from_the_config(tmp_path: Path) -> None:
    address = f"{unique_subnet()}.1"
    async with control_plane(tmp_path, control_plane_config(address)) as n:
        assert (await n.wait_resource(*MACHINE_TYPE, "controlplane")).strip() == "controlplane"
        kubelet = await n.wait_resource(*KUBELET_SPEC, "--hostname-override=cp-1")
        assert "--config=/etc/kubernetes/kubelet.yaml" in kubelet
        assert "clusterDomain: cluster.local" in kubelet
        cfg = await n.wait_resource(*KUBELET_CONFIG, "image:")
        assert "ghcr.io/siderolabs/kubelet:v" in cfg and "10.96.0.10" in cfg
        while len(await list_ids(n, "k8s", STATIC_POD)) < 3:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        assert await list_ids(n, "k8s", STATIC_POD) == [
            "kube-apiserver", "kube-controller-manager", "kube-scheduler"]
        pod = await n.resource_text("k8s", STATIC_POD, "kube-apiserver")
        assert pod is not None and "--feature-gates=Foo=true" in pod
        assert "kind: Pod" in pod and "registry.k8s.io/kube-apiserver:v" in pod
        # the kubelet is not started here: no Kubernetes binaries, reported as Skipped
        resp = await n.api.ServiceList(empty_pb2.Empty(), timeout=10)
        kubelet_svc = next(s for s in resp.messages[0].services if s.id == "kubelet")
        assert kubelet_svc.state == "Skipped"
        # every new type has a ResourceDefinition (`talosctl get rd`)
        rds = await list_ids(n, "meta", "ResourceDefinitions.meta.cosi.dev")
        for t in ("etcdconfigs.etcd.talos.dev", "kubeletspecs.kubernetes.talos.dev",
                  "kubeletconfigs.kubernetes.talos.dev", "staticpods.kubernetes.talos.dev",
                  "nodeipconfigs.kubernetes.talos.dev", "machinetypes.config.talos.dev"):
            assert t in rds

        # and talosctl finds them by alias, through apid
        pki = new_pki()
        node = SimpleNamespace(address=address, socket=n.socket)
        async with apid_in_front(node, pki) as target:  # type: ignore[arg-type]
            cfg = talosconfig(tmp_path / "talosconfig", pki, target)
            code, out, err = await talosctl(cfg, "get", "staticpods")
            assert code == 0, err
            # columns NODE (empty without -n) NAMESPACE TYPE ID VERSION: ID is next to last
            rows = [ln.split() for ln in out.splitlines()[1:] if ln.strip()]
            assert sorted(r[-2] for r in rows) == [
                "kube-apiserver", "kube-controller-manager", "kube-scheduler"], out
            code, out, err = await talosctl(cfg, "get", "kubeletspec", "-o", "yaml")
            assert code == 0, err
            assert "--hostname-override=cp-1" in out and "id: kubelet" in out
            code, out, err = await talosctl(cfg, "get", "etcdconfig")
            assert code == 0, err
            assert "IMAGE" in out.splitlines()[0] and "gcr.io/etcd-development/etcd" in out
            code, out, err = await talosctl(cfg, "get", "rd")
            assert code == 0, err
            assert "kubeletspecs.kubernetes.talos.dev" in out


async def test_worker_has_kubelet_resources_but_no_etcd_config_or_static_pods(
        tmp_path: Path) -> None:
    async with machined(tmp_path, seed=config("w-1")) as n:
        assert (await n.wait_resource(*MACHINE_TYPE, "worker")).strip() == "worker"
        await n.wait_resource(*KUBELET_SPEC, "--hostname-override=w-1")
        assert await get(n, ETCD_CONFIG) is None
        assert await list_ids(n, "k8s", STATIC_POD) == []


async def _refusal(n: Any, raw: bytes) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await n.apply(raw, m.ApplyConfigurationRequest.AUTO, dry_run=True)
    return e.value.details() or ""


async def test_apply_returns_the_validator_warnings_in_every_mode(tmp_path: Path) -> None:
    deprecated = config("w-1", extra="  allowSchedulingOnMasters: true\n")
    async with machined(tmp_path, seed=config("w-1")) as n:
        await n.wait_stage("running")
        dry = await n.apply(deprecated, m.ApplyConfigurationRequest.NO_REBOOT, dry_run=True)
        assert any("cluster.allowSchedulingOnMasters" in w and "deprecated" in w
                   for w in dry.warnings), dry.warnings
        r = await n.apply(deprecated, m.ApplyConfigurationRequest.NO_REBOOT)
        assert any("allowSchedulingOnMasters" in w for w in r.warnings), r.warnings
        clean = await n.apply(config("w-1"), m.ApplyConfigurationRequest.AUTO)
        assert list(clean.warnings) == []
        # the validator's errors refuse the config, every problem named, nothing changed
        odd = config("w-1").replace(b"https://127.0.0.1:6443", b"ftp://127.0.0.1:6443")
        for bad in (odd, config("w-1") + b"  bogusField: 1\n"):
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await n.apply(bad, m.ApplyConfigurationRequest.AUTO)
            assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "cluster.controlPlane.endpoint: invalid endpoint" in (
            await _refusal(n, odd))
        assert n.reboots() == 0


async def test_talosctl_apply_config_prints_the_warnings(tmp_path: Path) -> None:
    cfg = tmp_path / "worker.yaml"
    cfg.write_bytes(config("fresh", extra="  allowSchedulingOnMasters: true\n"))
    env = {**os.environ, "HOME": str(tmp_path), "TALOSCONFIG": str(tmp_path / "none")}
    async with machined(tmp_path, maintenance=True) as n:
        assert n.maintenance_port is not None
        argv = [sys.executable, "-m", "talos", "talosctl", "-e",
                f"127.0.0.1:{n.maintenance_port}", "apply-config", "--insecure", "-f",
                str(cfg), "--dry-run"]
        r = await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True,
                                    env=env, check=False, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    warning = [ln for ln in r.stderr.splitlines() if "WARNING:" in ln]
    assert len(warning) == 1, r.stderr
    assert "cluster.allowSchedulingOnMasters: deprecated" in warning[0]
    assert "Dry run summary" in r.stdout
