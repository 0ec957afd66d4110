"""machined's API server: MachineService and the COSI State API on one unix socket."""

from __future__ import annotations

import contextlib
import os

import grpc

from talos.api.cluster import cluster_pb2_grpc
from talos.api.machine import (
    debug_pb2_grpc,
    image_pb2_grpc,
    lifecycle_pb2_grpc,
    machine_pb2_grpc,
)
from talos.api.storage import storage_pb2_grpc
from talos.api.time import time_pb2_grpc
from talos.cosi.serve import add_services
from talos.machined.server.cluster import ClusterServicer
from talos.machined.server.context import NodeAPI
from talos.machined.server.debug import DebugServicer
from talos.machined.server.images import ImageServicer
from talos.machined.server.machine import MachineServicer
from talos.machined.server.storage import StorageServicer
from talos.machined.server.time import TimeServicer
from talos.machined.server.upgrade import LifecycleServicer
from talos.machinery.constants import GRPC_MESSAGE_SIZE_OPTIONS
from talos.machinery.errors import FailedPrecondition
from talos.nodeserver.boundary import Boundary

MAX_UNIX_PATH = 107  # sun_path is 108 bytes with the terminating NUL


async def start_server(node: NodeAPI) -> grpc.aio.Server:
    """Serve on `node.paths.socket` (0600, replaced if a stale one exists).

    Private from the moment it exists, without touching the process-wide umask (other
    threads create files meanwhile): its directory is made (or, if it exists, changed to)
    0700 before the bind, so nobody but root can reach the path at all, whatever mode the
    socket file itself has while gRPC binds it. The chmod to 0600 afterwards only tidies
    the socket's own mode."""
    sock = node.paths.socket
    if len(sock.encode()) > MAX_UNIX_PATH:
        raise FailedPrecondition(f"machined socket path is {len(sock.encode())} bytes, more than "
                                 f"a unix socket allows ({MAX_UNIX_PATH}): {sock}; use a "
                                 "shorter --root")
    sock_dir = os.path.dirname(sock)
    os.makedirs(sock_dir, mode=0o700, exist_ok=True)
    os.chmod(sock_dir, 0o700)  # one made earlier (older layouts: 0755) too, before the bind
    with contextlib.suppress(FileNotFoundError):
        os.unlink(sock)
    server = grpc.aio.server(interceptors=[Boundary()],
                             options=[("grpc.so_reuseport", 0), *GRPC_MESSAGE_SIZE_OPTIONS])
    machine_pb2_grpc.add_MachineServiceServicer_to_server(
        MachineServicer(node), server)
    time_pb2_grpc.add_TimeServiceServicer_to_server(
        TimeServicer(node), server)
    cluster_pb2_grpc.add_ClusterServiceServicer_to_server(
        ClusterServicer(node), server)
    storage_pb2_grpc.add_StorageServiceServicer_to_server(
        StorageServicer(node), server)
    image_pb2_grpc.add_ImageServiceServicer_to_server(ImageServicer(node), server)
    lifecycle_pb2_grpc.add_LifecycleServiceServicer_to_server(LifecycleServicer(node), server)
    debug_pb2_grpc.add_DebugServiceServicer_to_server(DebugServicer(node), server)
    add_services(server, node.state, node.runtime, hostname=node.hostname)
    server.add_insecure_port(f"unix:{sock}")
    await server.start()
    # only root (apid, tests) may talk to machined
    os.chmod(sock, 0o600)
    return server
