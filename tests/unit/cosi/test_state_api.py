"""The State gRPC service over a real unix socket, and `talosctl get`/`inspect` reaching it
through a real apid."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf import empty_pb2
from ruamel.yaml import YAML

from talos.api.inspect import inspect_pb2, inspect_pb2_grpc
from talos.api.resource.definitions.v1alpha1 import v1alpha1_pb2
from talos.api.v1alpha1 import resource_pb2, state_pb2, state_pb2_grpc
from talos.cosi.meta import register_definitions
from talos.cosi.resource import Resource
from talos.cosi.runtime import Runtime
from talos.cosi.serve import start_server
from talos.cosi.state import State
from talos.machinery.resources.definition import ResourceType, declare
from talos.machinery.resources.network import HOSTNAME_STATUS, HostnameStatusSpec
from talos.machinery.resources.v1alpha1 import SERVICE, ServiceSpec
from tests.unit.cosi.test_runtime import Step


@dataclass(frozen=True)
class NoteSpec:
    text: str = ""


NOTE = declare(ResourceType("Notes.test.talos.dev", "test", NoteSpec, api_writable=True))


@dataclass
class Node:
    state: State
    address: str


@pytest.fixture
async def node() -> AsyncIterator[Node]:
    d = tempfile.mkdtemp(prefix="cosi", dir="/tmp")
    state = State()
    await register_definitions(state)
    await state.create(Resource.new("v1alpha1", SERVICE.type, "apid",
                                    ServiceSpec(running=True, healthy=True)), owner="svc")
    await state.create(Resource.new("v1alpha1", SERVICE.type, "etcd",
                                    ServiceSpec(running=True)), owner="svc")
    await state.create(Resource.new("network", HOSTNAME_STATUS.type, "hostname",
                                    HostnameStatusSpec("node-1", "example.org")))
    runtime = Runtime(state)
    runtime.register(Step("A", "B"))
    address = f"unix:{d}/state.sock"
    server = await start_server(address, state, runtime)
    try:
        yield Node(state, address)
    finally:
        await server.stop(None)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
async def stub(node: Node) -> AsyncIterator[state_pb2_grpc.StateStub]:
    async with grpc.aio.insecure_channel(node.address) as ch:
        yield state_pb2_grpc.StateStub(ch)


async def test_get_and_list_return_resources_with_yaml_spec(stub) -> None:
    resp = await stub.Get(state_pb2.GetRequest(namespace="v1alpha1", type=SERVICE.type,
                                               id="apid"))
    md = resp.resource.metadata
    assert (md.id, md.version, md.owner, md.phase) == ("apid", "1", "svc", "running")
    assert resp.resource.spec.yaml_spec == "running: true\nhealthy: true\nunknown: false\n"
    pb = v1alpha1_pb2.ServiceSpec()
    pb.ParseFromString(resp.resource.spec.proto_spec)
    assert (pb.running, pb.healthy, pb.unknown) == (True, True, False)
    ids = [r.resource.metadata.id async for r in stub.List(
        state_pb2.ListRequest(namespace="v1alpha1", type=SERVICE.type))]
    assert ids == ["apid", "etcd"]


async def test_errors_carry_grpc_codes(stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Get(state_pb2.GetRequest(namespace="v1alpha1", type=SERVICE.type, id="x"))
    assert e.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Get(state_pb2.GetRequest(namespace="", type=SERVICE.type, id="x"))
    assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "namespace" in e.value.details()


async def test_api_writes_are_denied_unless_type_is_api_writable(stub) -> None:
    svc = resource_pb2.Resource(metadata=resource_pb2.Metadata(
        namespace="v1alpha1", type=SERVICE.type, id="evil"),
        spec=resource_pb2.Spec(yaml_spec="running: true\n"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Create(state_pb2.CreateRequest(resource=svc))
    assert e.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Destroy(state_pb2.DestroyRequest(namespace="v1alpha1", type=SERVICE.type,
                                                    id="apid", options={"owner": "svc"}))
    assert e.value.code() is grpc.StatusCode.PERMISSION_DENIED

    note = resource_pb2.Resource(metadata=resource_pb2.Metadata(
        namespace="test", type=NOTE.type, id="n1"), spec=resource_pb2.Spec(yaml_spec="text: hi\n"))
    created = (await stub.Create(state_pb2.CreateRequest(resource=note))).resource
    assert created.metadata.version == "1"
    created.spec.yaml_spec = "text: again\n"
    updated = (await stub.Update(state_pb2.UpdateRequest(new_resource=created))).resource
    assert updated.metadata.version == "2"
    with pytest.raises(grpc.aio.AioRpcError) as e:  # stale version
        await stub.Update(state_pb2.UpdateRequest(new_resource=created))
    assert e.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    bad = resource_pb2.Resource(metadata=note.metadata, spec=resource_pb2.Spec(
        yaml_spec="colour: red\n"))
    bad.metadata.id = "n2"
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Create(state_pb2.CreateRequest(resource=bad))
    assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "colour" in e.value.details()
    await stub.Destroy(state_pb2.DestroyRequest(namespace="test", type=NOTE.type, id="n1"))


async def test_watch_streams_bootstrap_then_changes(node: Node, stub) -> None:
    call = stub.Watch(state_pb2.WatchRequest(
        namespace="v1alpha1", type=SERVICE.type, api_version=1,
        options=state_pb2.WatchOptions(bootstrap_contents=True)))
    seen: list[tuple[int, str]] = []
    while not seen or seen[-1][0] != state_pb2.BOOTSTRAPPED:
        resp = await call.read()
        seen += [(ev.event_type, ev.resource.metadata.id) for ev in resp.event]
    assert seen == [(state_pb2.CREATED, "apid"), (state_pb2.CREATED, "etcd"),
                    (state_pb2.BOOTSTRAPPED, "")]
    cur = await node.state.get("v1alpha1", SERVICE.type, "etcd")
    await node.state.update(cur.with_spec(ServiceSpec(running=False)), owner="svc")
    resp = await call.read()
    ev = resp.event[0]
    assert (ev.event_type, ev.resource.metadata.version, ev.old.metadata.version) == (
        state_pb2.UPDATED, "2", "1")
    assert ev.resource.spec.yaml_spec.startswith("running: false")
    call.cancel()


async def test_inspect_dependencies(node: Node) -> None:
    async with grpc.aio.insecure_channel(node.address) as ch:
        resp = await inspect_pb2_grpc.InspectServiceStub(ch).ControllerRuntimeDependencies(
            empty_pb2.Empty())
    edges = [(e.controller_name, e.edge_type, e.resource_type) for e in resp.messages[0].edges]
    assert edges == [("chain.AToB", inspect_pb2.INPUT_WEAK, "As.chain.talos.dev"),
                     ("chain.AToB", inspect_pb2.OUTPUT_EXCLUSIVE, "Bs.chain.talos.dev")]


@pytest.fixture
async def api(node: Node, tmp_path) -> AsyncIterator[Node]:
    """The State server behind a real apid (mTLS, admin talosconfig): how talosctl reaches
    a node's resources."""
    import ipaddress

    from talos.apid.server import ApidServer, ApidSettings
    from talos.machinery.client.talosconfig import Context, Talosconfig
    from talos.machinery.pki import CertificateAuthority, IssueOptions

    ca = CertificateAuthority.generate(organization="talos")
    cert = ca.issue_key_pair(IssueOptions(
        common_name="127.0.0.1", organizations=("os:impersonator",),
        ip_addresses=(ipaddress.ip_address("127.0.0.1"),), server=True, client=True))
    apid = ApidServer(ApidSettings(ca.to_pem().crt, cert.crt, cert.key, listen="127.0.0.1:0",
                                   backend_socket=node.address.removeprefix("unix:")))
    port = await apid.start()
    admin = ca.issue_key_pair(IssueOptions(common_name="admin", organizations=("os:admin",)))
    talosconfig = tmp_path / "talosconfig"
    Talosconfig(context="t", contexts={"t": Context.from_pems(
        endpoints=(f"127.0.0.1:{port}",), ca=ca.to_pem().crt, client=admin)}).save(talosconfig)
    try:
        yield Node(node.state, str(talosconfig))
    finally:
        await apid.stop(0)


def run_talosctl(node: Node, *args: str, watch: bool = False) -> subprocess.Popen[bytes]:
    # plain Popen, waited for in threads: asyncio's child watcher is not involved
    return subprocess.Popen(
        [sys.executable, "-m", "talos", "talosctl", *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env={**os.environ, "TALOSCONFIG": node.address})


async def talosctl(node: Node, *args: str) -> tuple[int, str, str]:
    proc = run_talosctl(node, *args)
    out, err = await asyncio.to_thread(proc.communicate)
    return proc.returncode, out.decode(), err.decode()


async def test_talosctl_get_table_yaml_json_and_errors(api: Node) -> None:
    node = api
    rc, out, err = await talosctl(node, "get", "SVC")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", "RUNNING",
                                "HEALTHY", "HEALTH", "UNKNOWN"]
    assert lines[1].split() == ["v1alpha1", "Service", "apid", "1", "true", "true", "false"]
    assert len(lines) == 3

    rc, out, _ = await talosctl(node, "get", "hostnamestatus", "hostname", "-o", "yaml")
    assert rc == 0
    assert "metadata:\n    namespace: network\n    type: HostnameStatuses.net.talos.dev\n" in out
    assert out.endswith("spec:\n    hostname: node-1\n    domainname: example.org\n")
    doc = YAML(typ="safe", pure=True).load(out)
    assert doc["metadata"]["id"] == "hostname" and doc["spec"]["hostname"] == "node-1"
    assert doc["metadata"]["owner"] is None and doc["metadata"]["version"] == 1

    rc, out, _ = await talosctl(node, "get", "services", "etcd", "-o", "json")
    doc = json.loads(out)
    assert doc["metadata"]["id"] == "etcd" and doc["spec"]["running"] is True

    rc, out, _ = await talosctl(node, "get", "rd")
    assert "services.v1alpha1.talos.dev" in out and "ResourceDefinition" in out
    rc, out, _ = await talosctl(node, "get", "namespaces")
    assert rc == 0 and "config" in out and "v1alpha1" in out

    rc, out, err = await talosctl(node, "get", "nosuchthing")
    assert rc == 1 and "'nosuchthing' is not registered" in err and "Traceback" not in err
    rc, out, err = await talosctl(node, "get", "svc", "missing")
    assert rc == 1 and "NotFound" in err and "Traceback" not in err


async def test_talosctl_get_watch_prints_event_column(api: Node) -> None:
    node = api
    proc = run_talosctl(node, "get", "svc", "-w")
    assert proc.stdout is not None
    readline = proc.stdout.readline
    try:
        lines = [(await asyncio.to_thread(readline)).decode() for _ in range(3)]
        assert lines[0].split()[:2] == ["*", "NODE"]
        assert lines[1].split()[:3] == ["+", "v1alpha1", "Service"]
        await node.state.create(Resource.new("v1alpha1", SERVICE.type, "kubelet",
                                             ServiceSpec()), owner="svc")
        added = (await asyncio.to_thread(readline)).decode()
        assert added.split()[0] == "+" and "kubelet" in added
        await node.state.destroy(
            (await node.state.get("v1alpha1", SERVICE.type, "kubelet")).pointer, owner="svc")
        gone = (await asyncio.to_thread(readline)).decode()
        assert gone.split()[0] == "-" and "kubelet" in gone
    finally:
        proc.kill()
        await asyncio.to_thread(proc.communicate)


async def test_talosctl_inspect_dependencies_prints_dot(api: Node) -> None:
    node = api
    rc, out, err = await talosctl(node, "inspect", "dependencies")
    assert rc == 0, err
    assert out.startswith("digraph {")
    assert '"chain.AToB" -> "Bs.chain.talos.dev"' in out
    assert '"As.chain.talos.dev" -> "chain.AToB"' in out


async def test_authorize_hook_can_hide_sensitive_types() -> None:
    from talos.machinery.errors import PermissionDenied
    from talos.machinery.resources import is_sensitive
    from talos.machinery.resources.config import MACHINE_CONFIG, MachineConfigSpec

    def reader_only(context, type_name: str, verb: str) -> None:
        if verb != "read" or is_sensitive(type_name):
            raise PermissionDenied(f"{type_name}: not allowed for os:reader")

    d = tempfile.mkdtemp(prefix="cosi", dir="/tmp")
    state = State()
    await state.create(Resource.new("config", MACHINE_CONFIG.type, "v1alpha1",
                                    MachineConfigSpec("version: v1alpha1\n")))
    server = await start_server(f"unix:{d}/s.sock", state, authorize=reader_only)
    try:
        async with grpc.aio.insecure_channel(f"unix:{d}/s.sock") as ch:
            stub = state_pb2_grpc.StateStub(ch)
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await stub.Get(state_pb2.GetRequest(namespace="config",
                                                    type=MACHINE_CONFIG.type, id="v1alpha1"))
            assert e.value.code() is grpc.StatusCode.PERMISSION_DENIED
            assert "os:reader" in e.value.details()
            ids = [r.resource.metadata.id async for r in stub.List(
                state_pb2.ListRequest(namespace="v1alpha1", type=SERVICE.type))]
            assert ids == []
    finally:
        await server.stop(None)
        shutil.rmtree(d, ignore_errors=True)


async def test_watch_overflow_reaches_the_client_as_an_error_event() -> None:
    d = tempfile.mkdtemp(prefix="cosi", dir="/tmp")
    state = State(watch_buffer=4)
    server = await start_server(f"unix:{d}/s.sock", state)
    try:
        async with grpc.aio.insecure_channel(f"unix:{d}/s.sock") as ch:
            call = state_pb2_grpc.StateStub(ch).Watch(state_pb2.WatchRequest(
                namespace="v1alpha1", type=SERVICE.type, api_version=1,
                options=state_pb2.WatchOptions(bootstrap_contents=True)))
            first = await call.read()
            assert first.event[-1].event_type == state_pb2.BOOTSTRAPPED
            for i in range(50):  # no await point yields to the server: the watcher falls behind
                await state.create(Resource.new("v1alpha1", SERVICE.type, f"s{i}",
                                                ServiceSpec()))
            events = []
            while (resp := await call.read()) is not grpc.aio.EOF:
                events += list(resp.event)
        assert [e.event_type for e in events[:4]] == [state_pb2.CREATED] * 4
        assert events[-1].event_type == state_pb2.ERRORED and "overflow" in events[-1].error
        assert len(events) == 5
    finally:
        await server.stop(None)
        shutil.rmtree(d, ignore_errors=True)
