"""etcd through real machined processes (plain mode, one loopback address each), apid in front
of the first one, and talosctl: bootstrap, join, members, snapshot, kubeconfig, kill -9,
roles, and recovery from a snapshot after losing quorum with one command."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
import psutil
import pytest
from google.protobuf import empty_pb2
from ruamel.yaml import YAML

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from talos.api.machine import machine_pb2_grpc
from talos.api.v1alpha1 import state_pb2, state_pb2_grpc
from talos.apid.server import ApidServer, ApidSettings
from talos.machinery.config.generate import GenerateOptions, generate
from tests.integration.apid.harness import Pki, free_port, new_pki
from tests.integration.etcd.harness import needs_etcd, unique_subnet
from tests.leftovers import nothing_left_async

pytestmark = needs_etcd


def node_config(base: str, hostname: str, address: str) -> bytes:
    yaml = YAML()
    docs = list(yaml.load_all(base))
    doc = docs[0]
    doc["machine"].setdefault("network", {})["hostname"] = hostname
    doc["cluster"].setdefault("etcd", {})["advertisedSubnets"] = [f"{address}/32"]
    out = io.StringIO()
    yaml.dump_all(docs, out)
    return out.getvalue().encode()


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll a remote condition (the node is another process: nothing to await on)."""
    while True:
        if await check():
            return
        await asyncio.sleep(0.1)


class MachinedProc:
    def __init__(self, root: Path, config: Path, address: str) -> None:
        self.root = root
        self.config = config
        self.address = address
        self.proc: asyncio.subprocess.Process | None = None
        self.channel: grpc.aio.Channel | None = None

    @property
    def socket(self) -> Path:
        return self.root / "system/run/machined/machine.sock"

    @property
    def api(self) -> machine_pb2_grpc.MachineServiceStub:
        assert self.channel is not None
        return machine_pb2_grpc.MachineServiceStub(self.channel)

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "talos", "machined", "--root", str(self.root),
            "--config", str(self.config),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not self.socket.exists():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        self.channel = grpc.aio.insecure_channel(f"unix:{self.socket}")
        await self.channel.channel_ready()

    async def stop(self) -> None:
        if self.channel is not None:
            await self.channel.close()
            self.channel = None
        if self.proc is not None and self.proc.returncode is None:
            etcds = self.etcd_pids()
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 60)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
            for pid in etcds:  # never leave an etcd behind
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc = None

    def etcd_pids(self) -> list[int]:
        if self.proc is None:
            return []
        try:
            kids = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return [p.pid for p in kids if p.name() == "etcd"]

    async def etcd_health(self) -> tuple[str, bool]:
        resp = await self.api.ServiceList(empty_pb2.Empty())
        svc = next(s for s in resp.messages[0].services if s.id == "etcd")
        return svc.state, svc.health.healthy

    async def wait_etcd_healthy(self) -> None:
        async def healthy() -> bool:
            return await self.etcd_health() == ("Running", True)
        await until(healthy)


@asynccontextmanager
async def three_machined(tmp: Path) -> AsyncIterator[tuple[list[MachinedProc], str]]:
    prefix = unique_subnet()
    configs = generate(GenerateOptions(cluster_name="etcd-e2e",
                                       endpoint=f"https://{prefix}.1:6443"))
    nodes = []
    for i in (1, 2, 3):
        addr = f"{prefix}.{i}"
        cfg = tmp / f"cp-{i}.yaml"
        cfg.write_bytes(node_config(configs.controlplane, f"cp-{i}", addr))
        nodes.append(MachinedProc(tmp / f"n{i}", cfg, addr))
    async with nothing_left_async(tmp, what="three plain-mode machined"):
        try:
            await asyncio.gather(*(n.start() for n in nodes))
            yield nodes, configs.controlplane
        finally:
            await asyncio.gather(*(n.stop() for n in nodes), return_exceptions=True)


@asynccontextmanager
async def apid_in_front(node: MachinedProc, pki: Pki) -> AsyncIterator[str]:
    port = free_port([node.address])
    cert = pki.node_cert(node.address)
    apid = ApidServer(ApidSettings(pki.ca_pem, cert.crt, cert.key,
                                   listen=f"{node.address}:{port}",
                                   backend_socket=str(node.socket), remote_port=port))
    await apid.start()
    try:
        yield f"{node.address}:{port}"
    finally:
        await apid.stop(0)


def channel(pki: Pki, target: str, *roles: str) -> grpc.aio.Channel:
    client = pki.client(*roles)
    creds = grpc.ssl_channel_credentials(pki.ca_pem, client.key, client.crt)
    return grpc.aio.secure_channel(target, creds)


def talosconfig(path: Path, pki: Pki, target: str) -> Path:
    client = pki.client("os:admin")
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    path.write_text(
        "context: e2e\ncontexts:\n  e2e:\n"
        f"    endpoints: [\"{target}\"]\n"
        f"    ca: {b64(pki.ca_pem)}\n    crt: {b64(client.crt)}\n    key: {b64(client.key)}\n")
    return path


async def talosctl(cfg: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from talos.talosctl.main import main; "
        "sys.exit(main(sys.argv[1:]))", "--talosconfig", str(cfg), *args,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def denied(call: object) -> bool:
    try:
        result = call
        if hasattr(result, "__aiter__"):
            async for _ in result:  # type: ignore[attr-defined]
                pass
        else:
            await result  # type: ignore[misc]
    except grpc.aio.AioRpcError as e:
        return e.code() == grpc.StatusCode.PERMISSION_DENIED
    return False


async def test_three_control_planes_through_machined_apid_and_talosctl(tmp_path: Path) -> None:
    pki = new_pki()
    async with three_machined(tmp_path) as (nodes, _base):
        n1, n2, n3 = nodes
        # every control plane waits for Bootstrap (nobody to join yet)
        async def waiting() -> bool:
            return (await n2.etcd_health())[0] == "Waiting"
        await until(waiting)
        await n1.api.Bootstrap(m.BootstrapRequest())
        await asyncio.gather(*(n.wait_etcd_healthy() for n in nodes))

        views = []
        for n in nodes:
            resp = await n.api.EtcdMemberList(m.EtcdMemberListRequest())
            views.append(sorted((x.hostname, x.id, x.is_learner)
                                for x in resp.messages[0].members))
        assert views[0] == views[1] == views[2]
        assert [h for h, _, learner in views[0] if not learner] == ["cp-1", "cp-2", "cp-3"]

        # membership is a resource in the etcd namespace, matching the member list
        assert n1.channel is not None
        state = state_pb2_grpc.StateStub(n1.channel)
        got = await state.Get(state_pb2.GetRequest(
            namespace="etcd", type="EtcdMembers.etcd.talos.dev", id="local"))
        own = next(i for h, i, _ in views[0] if h == "cp-1")
        assert str(YAML(typ="safe").load(got.resource.spec.yaml_spec)["memberID"]) \
            == f"{own:x}"

        with pytest.raises(grpc.aio.AioRpcError) as e:
            await n2.api.Bootstrap(m.BootstrapRequest())
        assert e.value.code() == grpc.StatusCode.ALREADY_EXISTS

        # kill -9 of one member's etcd: restarted by the supervisor, healthy again
        [pid] = n3.etcd_pids()
        os.kill(pid, signal.SIGKILL)
        async def replaced() -> bool:
            return n3.etcd_pids() not in ([], [pid])
        await until(replaced)
        await n3.wait_etcd_healthy()

        async with apid_in_front(n1, pki) as target:
            cfg = talosconfig(tmp_path / "talosconfig", pki, target)
            code, out, err = await talosctl(cfg, "etcd", "members")
            assert code == 0, err
            assert out.splitlines()[0].split() == ["NODE", "ID", "HOSTNAME", "PEER", "URLS",
                                                   "CLIENT", "URLS", "LEARNER"]
            assert sum(" cp-" in line for line in out.splitlines()) == 3
            code, out, err = await talosctl(cfg, "etcd", "status")
            assert code == 0 and "RAFT APPLIED INDEX" in out, err
            code, out, err = await talosctl(cfg, "etcd", "alarm", "list")
            assert code == 0 and out.split() == ["NODE", "MEMBER", "ALARM"], err
            code, out, err = await talosctl(cfg, "etcd", "defrag")
            assert code == 0, err
            snap = tmp_path / "db.snapshot"
            # a world-readable stale part of an interrupted run and an old snapshot: the
            # database (every secret of the cluster) is still written 0600
            for old in (snap, tmp_path / "db.snapshot.part"):
                old.write_bytes(b"old")
                old.chmod(0o644)
            code, out, err = await talosctl(cfg, "etcd", "snapshot", str(snap))
            assert code == 0, err
            assert f"({snap.stat().st_size} bytes)" in out and "revision" in out
            assert oct(snap.stat().st_mode & 0o777) == "0o600"
            assert not (tmp_path / "db.snapshot.part").exists()

            kube = tmp_path / "kube" / "config"
            kube.parent.mkdir()
            kube.write_text("apiVersion: v1\nkind: Config\nclusters: []\nusers: []\n"
                            "contexts:\n- name: admin@etcd-e2e\n"
                            "  context: {cluster: old, user: old}\n"
                            "current-context: admin@etcd-e2e\n")
            code, out, err = await talosctl(cfg, "kubeconfig", str(kube))
            assert code == 0, err
            merged = YAML(typ="safe").load(kube.read_text())
            assert merged["current-context"] == "admin@etcd-e2e-1"
            assert {c["name"] for c in merged["contexts"]} == {"admin@etcd-e2e",
                                                                "admin@etcd-e2e-1"}
            if shutil.which("kubectl"):
                kubectl = await asyncio.create_subprocess_exec(
                    "kubectl", "--kubeconfig", str(kube), "config", "view",
                    "-o", "jsonpath={.contexts[*].name}",
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                kout, kerr = await kubectl.communicate()
                assert kubectl.returncode == 0 and b"admin@etcd-e2e-1" in kout, kerr

            # roles: a reader reads members and status and nothing else; etcd:backup snapshots
            async with channel(pki, target, "os:reader") as ch:
                api = machine_pb2_grpc.MachineServiceStub(ch)
                assert (await api.EtcdMemberList(m.EtcdMemberListRequest())).messages
                assert (await api.EtcdStatus(empty_pb2.Empty())).messages
                for call in (api.EtcdSnapshot(m.EtcdSnapshotRequest()),
                             api.EtcdRemoveMember(m.EtcdRemoveMemberRequest(member="cp-3")),
                             api.EtcdRemoveMemberByID(m.EtcdRemoveMemberByIDRequest(
                                 member_id=1)),
                             api.EtcdLeaveCluster(m.EtcdLeaveClusterRequest()),
                             api.EtcdForfeitLeadership(m.EtcdForfeitLeadershipRequest()),
                             api.Bootstrap(m.BootstrapRequest()),
                             api.Kubeconfig(empty_pb2.Empty()),
                             api.EtcdRecover(iter([common_pb2.Data(bytes=b"x")]))):
                    assert await denied(call)
            async with channel(pki, target, "os:etcd:backup") as ch:
                api = machine_pb2_grpc.MachineServiceStub(ch)
                data = b"".join([d.bytes async for d in api.EtcdSnapshot(
                    m.EtcdSnapshotRequest())])
                assert len(data) > 4096
                for call in (api.EtcdRemoveMember(m.EtcdRemoveMemberRequest(member="cp-3")),
                             api.EtcdLeaveCluster(m.EtcdLeaveClusterRequest()),
                             api.EtcdForfeitLeadership(m.EtcdForfeitLeadershipRequest()),
                             api.Bootstrap(m.BootstrapRequest()),
                             api.Kubeconfig(empty_pb2.Empty()),
                             api.EtcdRecover(iter([common_pb2.Data(bytes=b"x")]))):
                    assert await denied(call)

            # two of three stop: quorum lost; what the operator sees names the cause
            await n2.stop()
            await n3.stop()

            async def no_leader() -> bool:
                code, out, _err = await talosctl(cfg, "service", "etcd")
                return code == 0 and "no leader" in out
            await until(no_leader)
            code, out, err = await talosctl(cfg, "health", "--control-plane-nodes",
                                            n1.address, "--wait-timeout", "10s")
            assert code != 0
            assert f"{n1.address}: etcd is Running but unhealthy: etcd has no leader: quorum " \
                   "lost: 2 of 3 members unreachable: cp-2 (" in err, err
            assert "TimeoutError" not in out + err
            # one command recovers from the snapshot
            code, out, err = await talosctl(cfg, "bootstrap", "--recover-from", str(snap))
            assert code == 0, err
            await n1.wait_etcd_healthy()
            resp = await n1.api.EtcdMemberList(m.EtcdMemberListRequest())
            assert [x.hostname for x in resp.messages[0].members] == ["cp-1"]
            # the others come back and re-join the recovered cluster by themselves
            await asyncio.gather(n2.start(), n3.start())
            await asyncio.gather(n2.wait_etcd_healthy(), n3.wait_etcd_healthy())
            resp = await n3.api.EtcdMemberList(m.EtcdMemberListRequest())
            assert sorted(x.hostname for x in resp.messages[0].members) == ["cp-1", "cp-2",
                                                                            "cp-3"]
            # a control plane that is reset (gracefully) leaves the cluster first
            await n3.api.Reset(m.ResetRequest(graceful=True, reboot=False))
            assert n3.proc is not None
            await n3.proc.wait()
            resp = await n1.api.EtcdMemberList(m.EtcdMemberListRequest())
            assert sorted(x.hostname for x in resp.messages[0].members) == ["cp-1", "cp-2"]
            # a bad request gets a clear error, not a traceback
            code, out, err = await talosctl(cfg, "etcd", "remove-member", "nosuchnode")
            assert code != 0 and "not found" in err and "Traceback" not in err
