"""MachineService EtcdDowngradeValidate / Enable / Cancel (mixed into MachineServicer).

Upstream (v1.13.9) checks the node is a control plane and the version is `MAJOR.MINOR`, at
least 3.5, then calls etcd's Downgrade API. etcd added that API in 3.5; the etcd these nodes
run (Debian's 3.4) has none, so after the same checks the request is refused with that
reason (FailedPrecondition), naming the running etcd version. Cancel has no version.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn, TypeAlias

import grpc
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2 as m
from talos.machined.server.context import NodeAPI
from talos.machinery.errors import FailedPrecondition, InvalidArgument

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

MIN_DOWNGRADE = (3, 5)


def validate_version(version: str) -> tuple[int, int]:
    """Upstream's checks and messages (validateDowngrade)."""
    if not version:
        raise InvalidArgument("version is required for etcd downgrade")
    parts = version.split(".")
    if len(parts) != 2:
        raise InvalidArgument("version should be in MAJOR.MINOR format")
    if not re.fullmatch(r"[0-9]+", parts[0]):
        raise InvalidArgument("major version should be a number")
    if not re.fullmatch(r"[0-9]+", parts[1]):
        raise InvalidArgument("minor version should be a number")
    wanted = (int(parts[0]), int(parts[1]))
    if wanted < MIN_DOWNGRADE:
        raise InvalidArgument("etcd downgrade is only supported to 3.5 and later versions")
    return wanted


class EtcdDowngradeMethods:
    node: NodeAPI

    async def _refuse_downgrade(self, what: str) -> NoReturn:
        mgr = self.node.etcd
        if mgr is None:
            raise FailedPrecondition("etcd is not set up on this node (no machine config yet)")
        st = await mgr.status()  # FailedPrecondition when etcd does not run here (workers)
        running = st.version or "unknown"
        raise FailedPrecondition(
            f"{what}: the etcd this node runs ({running}) has no downgrade API (etcd added "
            "it in 3.5); restore a snapshot taken by the older version instead "
            "(talosctl bootstrap --recover-from)")

    async def EtcdDowngradeValidate(self, request: m.EtcdDowngradeValidateRequest,
                                    context: Ctx) -> m.EtcdDowngradeValidateResponse:
        validate_version(request.version)
        await self._refuse_downgrade("etcd downgrade validate")

    async def EtcdDowngradeEnable(self, request: m.EtcdDowngradeEnableRequest,
                                  context: Ctx) -> m.EtcdDowngradeEnableResponse:
        validate_version(request.version)
        await self._refuse_downgrade("etcd downgrade enable")

    async def EtcdDowngradeCancel(self, request: empty_pb2.Empty, context: Ctx
                                  ) -> m.EtcdDowngradeCancelResponse:
        await self._refuse_downgrade("etcd downgrade cancel")
