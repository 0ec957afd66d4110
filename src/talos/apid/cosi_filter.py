"""What non-admin callers may see through `cosi.resource.State`.

On top of the method table: resources in the `secrets` namespace and types declared
sensitive are denied to anyone without `os:admin`; the machine config (sensitive, but what
operators look at most) is shown to them with every secret value redacted
(`talos.machinery.config.redact`).
"""

from __future__ import annotations

from typing import Any

from talos.api.v1alpha1 import resource_pb2, state_pb2
from talos.machinery.errors import PermissionDenied
from talos.machinery.resources import config as config_resources
from talos.machinery.resources import is_sensitive

SECRETS_NAMESPACE = "secrets"
MACHINE_CONFIG_TYPE = config_resources.MACHINE_CONFIG.type
#: talos.machinery.config.redact.REDACTED (that package is imported only when a config is
#: redacted: its models take long to import, and apid must start fast)
REDACTED = "******"

_READS: dict[str, Any] = {
    "/cosi.resource.State/Get": state_pb2.GetRequest,
    "/cosi.resource.State/List": state_pb2.ListRequest,
    "/cosi.resource.State/Watch": state_pb2.WatchRequest,
}


def is_cosi_read(method: str) -> bool:
    return method in _READS


def check_request(method: str, request: bytes) -> bool:
    """For a caller without admin: raise PermissionDenied for secrets; True -> redact replies."""
    req = _READS[method].FromString(request)
    if req.namespace == SECRETS_NAMESPACE:
        raise PermissionDenied(
            f"{method}: the {SECRETS_NAMESPACE!r} namespace is readable only with os:admin")
    if req.type == MACHINE_CONFIG_TYPE:
        return True
    if is_sensitive(req.type):
        raise PermissionDenied(
            f"{method}: resources of type {req.type!r} are sensitive and readable only with "
            "os:admin")
    return False


def _redact_resource(res: resource_pb2.Resource) -> None:
    if res.metadata.type == MACHINE_CONFIG_TYPE:
        from talos.api.resource.config import config_pb2
        from talos.machinery.config.redact import redact_yaml
        if res.spec.yaml_spec:
            res.spec.yaml_spec = redact_yaml(res.spec.yaml_spec)
        # a stock talosctl decodes proto_spec: it carries the same redacted document
        res.spec.proto_spec = config_pb2.MachineConfigSpec(
            yaml_marshalled=res.spec.yaml_spec.encode()).SerializeToString()
    elif res.metadata.namespace == SECRETS_NAMESPACE or is_sensitive(res.metadata.type):
        res.spec.yaml_spec = REDACTED
        res.spec.proto_spec = b""


def redact_response(method: str, reply: bytes) -> bytes:
    """Redact a Get/List reply or a Watch event batch."""
    if method == "/cosi.resource.State/Watch":
        w = state_pb2.WatchResponse.FromString(reply)
        for ev in w.event:
            if ev.HasField("resource"):
                _redact_resource(ev.resource)
            if ev.HasField("old"):
                _redact_resource(ev.old)
        return bytes(w.SerializeToString())
    msg = (state_pb2.GetResponse if method == "/cosi.resource.State/Get"
           else state_pb2.ListResponse).FromString(reply)
    if msg.HasField("resource"):
        _redact_resource(msg.resource)
    return bytes(msg.SerializeToString())
