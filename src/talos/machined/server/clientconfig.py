"""MachineService GenerateClientConfiguration (mixed into MachineServicer).

A client certificate with the requested roles and lifetime, issued from the OS CA in the
machine config (`machine.ca`), wrapped in a talosconfig, as Talos does: control planes only
(workers have no CA key: FailedPrecondition), the context named `<role>@<cluster>` for a
single role and `<cluster>` otherwise, no endpoints (the client fills in the ones it used).
apid allows the method to `os:admin` only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from talos.machined.server.context import NodeAPI
from talos.machinery.client.clientconfig import (
    ClientConfiguration,
    check_roles,
    generate_client_configuration,
)
from talos.machinery.errors import FailedPrecondition, InvalidArgument
from talos.machinery.pki import CertificateAndKey, CertificateAuthority

if TYPE_CHECKING:
    from talos.machined.config import NodeConfig

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
ROLE_PREFIX = "os:"


def context_name(cluster: str, roles: tuple[str, ...]) -> str:
    """`reader@demo` for one role, else the cluster name (Talos's "nice context name")."""
    if len(roles) == 1:
        return roles[0].removeprefix(ROLE_PREFIX) + "@" + cluster
    return cluster


def client_configuration(cfg: NodeConfig | None, roles: list[str],
                         ttl: dt.timedelta) -> ClientConfiguration:
    """Everything GenerateClientConfiguration answers (blocking: key generation)."""
    if cfg is None:
        raise FailedPrecondition("client configuration (talosconfig) can't be generated: the "
                                 "node has no machine config")
    if cfg.machine_type not in ("controlplane", "init"):
        raise FailedPrecondition(
            "client configuration (talosconfig) can't be generated on worker nodes")
    if ttl <= dt.timedelta(0):
        raise InvalidArgument(f"crt_ttl should be positive, got {ttl}")
    checked = check_roles(roles)
    v1 = cfg.config.v1alpha1
    ca_doc = v1.machine.ca if v1 is not None and v1.machine is not None else None
    if ca_doc is None or not ca_doc.crt or not ca_doc.key:
        raise FailedPrecondition("machine.ca (the OS CA with its key) is not in the machine "
                                 "config: cannot issue client certificates")
    pair = CertificateAndKey.from_base64({"crt": ca_doc.crt, "key": ca_doc.key},
                                         path="machine.ca")
    ca = CertificateAuthority.from_pem(pair, what="machine.ca")
    cluster = v1.cluster if v1 is not None else None
    name = str(cluster.cluster_name or "") if cluster is not None else ""
    return generate_client_configuration(ca, checked, ttl,
                                         context_name=context_name(name or "talos", checked))


class ClientConfigMethods:
    node: NodeAPI

    async def GenerateClientConfiguration(
            self, request: m.GenerateClientConfigurationRequest, context: Ctx
    ) -> m.GenerateClientConfigurationResponse:
        ttl = request.crt_ttl.ToTimedelta() if request.HasField("crt_ttl") \
            else dt.timedelta(0)
        out = await asyncio.to_thread(client_configuration, self.node.config(),
                                      list(request.roles), ttl)
        return m.GenerateClientConfigurationResponse(messages=[m.GenerateClientConfiguration(
            metadata=common_pb2.Metadata(hostname=self.node.hostname),
            ca=out.ca, crt=out.crt, key=out.key, talosconfig=out.talosconfig)])
