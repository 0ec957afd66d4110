"""MachineService ApplyConfiguration and Reset (mixed into MachineServicer)."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from talos.machined import reset
from talos.machined.sequencer import sequences
from talos.machined.server.context import NodeAPI

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"


class ApplyMethods:
    node: NodeAPI

    def _md(self) -> common_pb2.Metadata:
        return common_pb2.Metadata(hostname=self.node.hostname)

    async def ApplyConfiguration(self, request: m.ApplyConfigurationRequest, context: Ctx
                                 ) -> m.ApplyConfigurationResponse:
        timeout = None
        if request.HasField("try_mode_timeout"):
            timeout = request.try_mode_timeout.ToTimedelta().total_seconds()
        result = await self.node.applier.apply(bytes(request.data), int(request.mode),
                                               dry_run=request.dry_run, try_timeout=timeout)
        reply = m.ApplyConfigurationResponse(messages=[m.ApplyConfiguration(
            metadata=self._md(), warnings=list(result.warnings),
            mode=result.mode,  # type: ignore[arg-type]
            mode_details=result.details)])
        if result.after is not None:
            await result.after()
        return reply

    async def Reset(self, request: m.ResetRequest, context: Ctx) -> m.ResetResponse:
        p = reset.plan(request.graceful, request.reboot,
                       [(s.label, s.wipe) for s in request.system_partitions_to_wipe],
                       list(request.user_disks_to_wipe), int(request.mode))
        self.node.sequencer.submit(sequences.reset(self.node, p))
        return m.ResetResponse(messages=[m.Reset(metadata=self._md())])
