"""The maintenance-mode API: server TLS with a self-signed certificate, no client
certificates, and only these methods:

- machine.MachineService: Version, ApplyConfiguration, Dmesg, Logs (of machined only)
- storage.StorageService: Disks, BlockDeviceWipe
- cosi.resource.State: Get, List, Watch of hardware, network and runtime resources (disks,
  volumes, the machine status, META keys: what upstream's maintenance readers see) and `meta`,
  so clients can resolve type names

Every other method, known or not, is refused with PERMISSION_DENIED saying why. A valid
applied config moves the node to its normal boot (apid then takes over the port).

MetaWrite/MetaDelete (`talosctl meta --insecure`): upstream v1.13.9 serves maintenance mode
from apid in read-only role mode (`authz.ReadOnlyWithAdminOnSiderolink`): a client gets the
Reader role, and only a SideroLink peer gets Admin, the role META writes need. A node here has
no SideroLink, so every maintenance client is a reader and the writes are refused, naming
that (`talosctl get meta --insecure` reads the keys).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from talos.api.machine import machine_pb2_grpc
from talos.api.storage import storage_pb2_grpc
from talos.cosi.server import StateServicer, add_to_server
from talos.machined.maintenance.cert import self_signed
from talos.machined.server.context import NodeAPI
from talos.machined.server.machine import MachineServicer
from talos.machined.server.storage import StorageServicer
from talos.machined.services.identity import node_addresses
from talos.machinery.errors import PermissionDenied
from talos.machinery.pki.fingerprint import spki_fingerprint
from talos.machinery.resources import lookup
from talos.nodeserver.boundary import Boundary
from talos.nodeserver.tls import TlsListener, start_tls_server

log = logging.getLogger(__name__)

ALLOWED = frozenset({
    "/machine.MachineService/Version",
    "/machine.MachineService/ApplyConfiguration",
    "/machine.MachineService/Dmesg",
    "/machine.MachineService/Logs",
    "/storage.StorageService/Disks",
    # upstream v1.13.9: a reader may wipe disks in maintenance mode (here only on a metal
    # node: StorageServicer refuses on a sandbox or plain-mode node, whose disks are the host's)
    "/storage.StorageService/BlockDeviceWipe",
    "/cosi.resource.State/Get",
    "/cosi.resource.State/List",
    "/cosi.resource.State/Watch",
})
READABLE_NAMESPACES = ("hardware", "network", "runtime", "meta")
#: upstream gives these to SideroLink peers only (they need the admin role)
SIDEROLINK_ONLY = frozenset({
    "/machine.MachineService/MetaWrite",
    "/machine.MachineService/MetaDelete",
})


def denial(method: str) -> str:
    short = method.rsplit("/", 1)[-1] or method
    if method in SIDEROLINK_ONLY:
        return (f"node is in maintenance mode: {short} needs the admin role, which Talos gives "
                "a maintenance client only over SideroLink (this node has none; every "
                "maintenance client is a reader): apply a config, then write META with "
                "an admin or os:meta:writer talosconfig")
    return (f"node is in maintenance mode: {short} is not available until a machine config is "
            "applied (only Version, ApplyConfiguration, Disks, Dmesg, Logs of machined and "
            "reading hardware, network and runtime resources are served; apply one with "
            "`talosctl apply-config --insecure`)")


def authorize_read(context: Any, type_name: str, verb: str) -> None:
    if verb != "read":
        raise PermissionDenied(denial("/cosi.resource.State/" + verb.capitalize()))
    rt = lookup(type_name)
    if rt is None or rt.default_namespace not in READABLE_NAMESPACES:
        raise PermissionDenied(
            f"node is in maintenance mode: resources of type {type_name} are not readable "
            f"(only the {', '.join(READABLE_NAMESPACES)} namespaces)")


async def _deny(context: grpc.aio.ServicerContext[Any, Any], method: str) -> None:
    await context.abort(grpc.StatusCode.PERMISSION_DENIED, denial(method))


def _denying_handler(handler: Any, method: str) -> Any:
    async def unary(request: Any, context: Any) -> Any:
        await _deny(context, method)

    async def stream(request: Any, context: Any) -> AsyncIterator[Any]:
        await _deny(context, method)
        yield None  # pragma: no cover - abort raises

    if handler is None:
        return grpc.unary_unary_rpc_method_handler(unary)
    if handler.unary_unary is not None:
        return handler._replace(unary_unary=unary)
    if handler.unary_stream is not None:
        return handler._replace(unary_stream=stream)
    if handler.stream_unary is not None:
        return handler._replace(stream_unary=unary)
    return handler._replace(stream_stream=stream)


def _machined_logs_only(handler: Any) -> Any:
    inner = handler.unary_stream

    async def logs(request: Any, context: Any) -> AsyncIterator[Any]:
        if request.id != "machined":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                f"node is in maintenance mode: only the logs of machined are "
                                f"served (not {request.id!r})")
        async for item in inner(request, context):
            yield item
    return handler._replace(unary_stream=logs)


class MaintenanceInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(details)
        method = details.method
        if method not in ALLOWED or handler is None:
            return _denying_handler(handler, method)
        if method == "/machine.MachineService/Logs":
            return _machined_logs_only(handler)
        return handler


async def start(node: NodeAPI, listen: str) -> grpc.aio.Server:
    """Serve the maintenance API on `listen` (host:port); stop with `await server.stop()`."""
    pair = self_signed(await asyncio.to_thread(node_addresses), node.hostname)

    def register(server: grpc.aio.Server) -> None:
        machine_pb2_grpc.add_MachineServiceServicer_to_server(
            MachineServicer(node), server)
        storage_pb2_grpc.add_StorageServiceServicer_to_server(
            StorageServicer(node, maintenance=True), server)
        add_to_server(StateServicer(node.state, authorize=authorize_read), server)

    # the boundary runs outermost: it refuses undecodable requests before anything reads
    # them (even of denied methods) and maps every error, the denials included
    server, _ = await start_tls_server(
        TlsListener("maintenance API", listen, pair.crt, pair.key), register,
        interceptors=[Boundary(), MaintenanceInterceptor()])
    log.info("node is in maintenance mode: insecure API on %s (apply a config to boot); "
             "server certificate fingerprint %s (talosctl --cert-fingerprint)", listen,
             spki_fingerprint(pair.crt))
    return server
