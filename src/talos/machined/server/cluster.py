"""cluster.ClusterService/HealthCheck on machined: the cluster health checks run from this
node, streamed as progress lines.

The checks reach every node through this node's own apid (127.0.0.1:50000), authenticated
with the node's certificate (`os:impersonator`) and carrying the caller's roles in
`talos-role`, exactly as apid forwards them: the check can do nothing its caller could not.
The caller names the nodes (`cluster_info`); without control-plane nodes they are taken
from this node's cluster members (`Members.cluster.talos.dev`, from discovery), control
planes by machine type, as Talos does.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc

from talos.api.cluster import cluster_pb2, cluster_pb2_grpc
from talos.api.common import common_pb2
from talos.machined.server.context import NodeAPI
from talos.machined.services.apid import identity_files
from talos.machinery.constants import APID_PORT
from talos.machinery.errors import FailedPrecondition, TalosError

if TYPE_CHECKING:
    from talos.machinery.client.health import ClusterInfo

ROLE_METADATA_KEY = "talos-role"
DEFAULT_WAIT = 20 * 60.0


class ClusterServicer(cluster_pb2_grpc.ClusterServiceServicer):
    def __init__(self, node: NodeAPI) -> None:
        self.node = node

    async def HealthCheck(self, request: cluster_pb2.HealthCheckRequest,
                          context: grpc.aio.ServicerContext
                          ) -> AsyncIterator[cluster_pb2.HealthCheckProgress]:
        from talos.machinery.client.connection import ConnectionOptions, connect
        from talos.machinery.client.health import (
            ClusterInfo,
            Progress,
            progress_line,
            wait_healthy,
        )

        info = ClusterInfo(tuple(request.cluster_info.control_plane_nodes),
                           tuple(request.cluster_info.worker_nodes))
        if not info.controlplanes:
            info = self._discovered()
        timeout = request.wait_timeout.ToNanoseconds() / 1e9 or DEFAULT_WAIT
        roles = tuple((k, v) for k, v in (context.invocation_metadata() or ())
                      if k == ROLE_METADATA_KEY and isinstance(v, str))
        files = identity_files(self.node.paths)
        try:
            ca, crt, key = [await asyncio.to_thread(_read, p)
                            for p in (files.ca, files.cert, files.key)]
        except OSError as e:
            raise FailedPrecondition(f"this node's API identity is not ready ({e.strerror}): "
                                     "is apid running?") from None
        opts = ConnectionOptions((f"127.0.0.1:{APID_PORT}",), ca_pem=ca, crt_pem=crt,
                                 key_pem=key)
        queue: asyncio.Queue[Progress | BaseException | None] = asyncio.Queue()

        async def run() -> None:
            try:
                conn = await connect(opts)
                try:
                    await wait_healthy(conn, info, timeout, queue.put_nowait, metadata=roles)
                finally:
                    await conn.close()
            except TalosError as e:
                queue.put_nowait(e)
            else:
                queue.put_nowait(None)

        md = common_pb2.Metadata(hostname=self.node.hostname)
        error: BaseException | None = None
        async with asyncio.TaskGroup() as tg:
            task = tg.create_task(run())
            try:
                while True:
                    item = await queue.get()
                    if item is None:
                        break
                    if isinstance(item, BaseException):
                        error = item
                        break
                    yield cluster_pb2.HealthCheckProgress(metadata=md,
                                                          message=progress_line(item))
            finally:
                task.cancel()
        if error is not None:
            raise error


    def _discovered(self) -> ClusterInfo:
        from talos.cosi.spec import to_plain
        from talos.machinery.client.health import cluster_info_from_members
        from talos.machinery.resources.cluster import MEMBER

        members = self.node.state.list_nowait(MEMBER.default_namespace, MEMBER.type)
        info = cluster_info_from_members([to_plain(m.spec) for m in members])
        if not info.controlplanes:
            raise FailedPrecondition(
                "cluster_info.control_plane_nodes: empty, and this node knows no control-plane "
                "member to check (cluster discovery disabled or not converged yet): name the "
                "control planes and workers")
        return info


def _read(path: str) -> bytes:
    with open(os.fspath(path), "rb") as f:
        return f.read()
