"""Every resource a running node publishes has an owner, and that owner is a controller the
dependency graph (`talosctl inspect dependencies`) shows writing the resource's type: no
writer outside the controller runtime."""

from __future__ import annotations

from pathlib import Path

from google.protobuf import empty_pb2

from talos.api.inspect import inspect_pb2, inspect_pb2_grpc
from talos.api.machine import machine_pb2 as m
from talos.api.v1alpha1 import state_pb2
from talos.machined.controllers.v1alpha1.service_config import SERVICE_CONFIG
from talos.machinery.resources.definition import declared
from talos.machinery.resources.meta import META_NAMESPACE, NAMESPACES
from tests.integration.apply.harness import Machined
from tests.integration.apply.test_config_resources import (
    control_plane,
    control_plane_config,
    wait_etcd,
)
from tests.integration.etcd.harness import needs_etcd, unique_subnet

OUTPUTS = (inspect_pb2.OUTPUT_EXCLUSIVE, inspect_pb2.OUTPUT_SHARED)


async def published(n: Machined) -> dict[tuple[str, str, str], str]:
    """(namespace, type, id) -> owner of every resource outside `meta` (the definitions and
    namespaces are the registry's, as in cosi-project, not a controller's)."""
    out: dict[tuple[str, str, str], str] = {}
    types = [*declared(), SERVICE_CONFIG]  # and machined's own (not for `talosctl get`)
    namespaces = set(NAMESPACES) | {rt.default_namespace for rt in types}
    namespaces.discard(META_NAMESPACE)
    for ns in sorted(namespaces):
        for rt in types:
            call = n.cosi.List(state_pb2.ListRequest(namespace=ns, type=rt.type), timeout=10)
            async for item in call:
                md = item.resource.metadata
                out[(ns, md.type, md.id)] = md.owner
    return out


async def writers(n: Machined) -> dict[str, set[str]]:
    """Resource type -> the controllers the dependency graph shows writing it."""
    assert n.channel is not None
    stub = inspect_pb2_grpc.InspectServiceStub(n.channel)  # type: ignore[no-untyped-call]
    resp = await stub.ControllerRuntimeDependencies(empty_pb2.Empty(), timeout=10)
    out: dict[str, set[str]] = {}
    for dep in resp.messages:
        for e in dep.edges:
            if e.edge_type in OUTPUTS:
                out.setdefault(e.resource_type, set()).add(e.controller_name)
    return out


@needs_etcd
async def test_every_published_resource_is_written_by_a_controller_in_the_graph(
        tmp_path: Path) -> None:
    address = f"{unique_subnet()}.1"
    async with control_plane(tmp_path, control_plane_config(address)) as n:
        await n.wait_stage("running")
        await n.api.Bootstrap(m.BootstrapRequest(), timeout=30)
        await wait_etcd(n, None)
        await n.wait_resource("etcd", "EtcdMembers.etcd.talos.dev", "local", "memberID")
        resources = await published(n)
        graph = await writers(n)

    types = {t for _, t, _ in resources}
    # the ones a direct writer used to publish are among them
    for t in ("MachineConfigs.config.talos.dev", "MachineStatuses.runtime.talos.dev",
              "Services.v1alpha1.talos.dev", "EtcdMembers.etcd.talos.dev",
              "ServiceConfigs.v1alpha1.talos.dev"):
        assert t in types, sorted(types)
    orphans = {f"{ns}/{t}/{i}": owner for (ns, t, i), owner in resources.items()
               if owner not in graph.get(t, set())}
    assert orphans == {}, "resources whose owner is not a controller writing their type " \
                          f"in the dependency graph: {orphans}"
