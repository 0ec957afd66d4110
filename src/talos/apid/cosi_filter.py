"""What non-admin callers may see through `cosi.resource.State`.

On top of the method table: resources in the `secrets` namespace and types declared
sensitive are denied to anyone without `os:admin`; the machine config (sensitive, but what
operators look at most) is shown to them with every secret value redacted.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from talos.api.v1alpha1 import resource_pb2, state_pb2
from talos.machinery.errors import PermissionDenied, TalosError
from talos.machinery.resources import config as config_resources
from talos.machinery.resources import is_sensitive

SECRETS_NAMESPACE = "secrets"
MACHINE_CONFIG_TYPE = config_resources.MACHINE_CONFIG.type
REDACTED = "******"
#: Mapping keys whose string values are secrets in a machine config (any document).
SECRET_KEYS = frozenset({
    "key", "token", "secret", "aescbcEncryptionSecret", "secretboxEncryptionSecret",
    "privateKey", "bootstrapToken", "password", "apiToken", "passphrase", "identityToken",
})

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


def redact_yaml(text: str) -> str:
    """The machine config with every secret value replaced by `******`.

    The config model's own redaction (exact secret paths per document kind, layout kept)
    runs first; then, as a safety net for documents it does not know, every value under a
    secret-looking key is redacted too (re-rendering the YAML only if that changed anything).
    """
    # imported here: the config models take ~1 s to import, and apid must start fast
    from talos.machinery.config.config import load_config

    try:
        text = load_config(text, source="MachineConfig").redacted().dump()
    except TalosError:
        pass
    y = YAML(typ="rt")
    y.width = 1 << 16
    try:
        docs = list(y.load_all(text))
    except YAMLError:
        return REDACTED  # unparseable: show nothing rather than leak
    if not sum(_redact(d) for d in docs):
        return text
    out = io.StringIO()
    y.dump_all(docs, out)
    return out.getvalue()


def _redact(node: Any) -> int:
    """Redact in place; returns how many values were replaced."""
    changed = 0
    if isinstance(node, dict):
        for k in list(node):
            v = node[k]
            if k in SECRET_KEYS and isinstance(v, str) and v and v != REDACTED:
                node[k] = REDACTED
                changed += 1
            else:
                changed += _redact(v)
    elif isinstance(node, list):
        for item in node:
            changed += _redact(item)
    return changed


def _redact_resource(res: resource_pb2.Resource) -> None:
    if res.metadata.type == MACHINE_CONFIG_TYPE:
        from talos.api.resource.config import config_pb2
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
