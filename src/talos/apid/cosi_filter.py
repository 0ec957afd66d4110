"""What non-admin callers may see through `cosi.resource.State`.

On top of the method table: resources in the `secrets` namespace and types declared
sensitive are denied to anyone without `os:admin`; the machine config (sensitive, but what
operators look at most) is shown to them with every secret value redacted
(`talos.machinery.config.redact`).

Only a COSI read by a caller without `os:admin` needs the resource catalog, the protobuf
messages of the State API and the config redaction: each is imported at that first read,
not when apid starts (the catalog alone took ~70 ms and pulled in ruamel; apid serves
admins, other apids and trustd-issued certificates without ever needing them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from talos.machinery.errors import PermissionDenied

if TYPE_CHECKING:
    from talos.api.v1alpha1 import resource_pb2

SECRETS_NAMESPACE = "secrets"
#: talos.machinery.resources.config.MACHINE_CONFIG.type (a test keeps the two equal)
MACHINE_CONFIG_TYPE = "MachineConfigs.config.talos.dev"
#: talos.machinery.config.redact.REDACTED (that package is imported only when a config is
#: redacted: its models take long to import, and apid must start fast)
REDACTED = "******"

_READS = frozenset({
    "/cosi.resource.State/Get",
    "/cosi.resource.State/List",
    "/cosi.resource.State/Watch",
})


def is_cosi_read(method: str) -> bool:
    return method in _READS


def _request_type(method: str) -> Any:
    from talos.api.v1alpha1 import state_pb2
    if method == "/cosi.resource.State/Get":
        return state_pb2.GetRequest
    if method == "/cosi.resource.State/List":
        return state_pb2.ListRequest
    return state_pb2.WatchRequest


def is_sensitive(type_name: str) -> bool:
    from talos.machinery.resources import is_sensitive as declared_sensitive
    return declared_sensitive(type_name)


def check_request(method: str, request: bytes) -> bool:
    """For a caller without admin: raise PermissionDenied for secrets; True -> redact replies."""
    req = _request_type(method).FromString(request)
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
    from talos.api.v1alpha1 import state_pb2
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
