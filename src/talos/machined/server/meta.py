"""MachineService MetaWrite / MetaDelete (mixed into MachineServicer) over the node's META
store (`server/metastore.py`), keys uint8 as upstream (v1.13.9).

Upstream keeps META in a partition of the system disk (and refuses the methods in container
mode). A node here has no META partition: the store is a file in STATE. Upstream serves
MetaWrite/MetaDelete in maintenance mode too (installers and the dashboard write META before
a config exists); so does the maintenance API here.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from talos.machined.server.context import NodeAPI
from talos.machinery.errors import InvalidArgument

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"


def check_key(key: int) -> int:
    if key > 0xFF:
        raise InvalidArgument(f"key must be a uint8, got {key}")
    return key


class MetaMethods:
    node: NodeAPI

    async def MetaWrite(self, request: m.MetaWriteRequest, context: Ctx
                        ) -> m.MetaWriteResponse:
        await self.node.meta.write(check_key(request.key), request.value)
        return m.MetaWriteResponse(messages=[m.MetaWrite(
            metadata=common_pb2.Metadata(hostname=self.node.hostname))])

    async def MetaDelete(self, request: m.MetaDeleteRequest, context: Ctx
                         ) -> m.MetaDeleteResponse:
        await self.node.meta.delete(check_key(request.key))
        return m.MetaDeleteResponse(messages=[m.MetaDelete(
            metadata=common_pb2.Metadata(hostname=self.node.hostname))])
