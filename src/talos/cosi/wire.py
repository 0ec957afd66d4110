"""Resources to and from the COSI wire form `cosi.resource.Resource`.

`yaml_spec` is always filled (that is what `talosctl get` prints); `proto_spec` is filled for
every type that declares one (`ResourceType.proto`: the upstream message a stock client
decodes).
"""

from __future__ import annotations

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from talos.api.v1alpha1 import resource_pb2
from talos.cosi import protospec
from talos.cosi.resource import Metadata, Phase, Resource
from talos.cosi.spec import RawSpec, spec_from_yaml, spec_to_yaml
from talos.machinery.errors import InvalidArgument
from talos.machinery.resources.definition import lookup


def metadata_to_proto(md: Metadata) -> resource_pb2.Metadata:
    created = Timestamp(seconds=md.created_ns // 1_000_000_000,
                        nanos=md.created_ns % 1_000_000_000)
    updated = Timestamp(seconds=md.updated_ns // 1_000_000_000,
                        nanos=md.updated_ns % 1_000_000_000)
    return resource_pb2.Metadata(
        namespace=md.namespace, type=md.type, id=md.id, version=str(md.version),
        owner=md.owner, phase=md.phase.value, created=created, updated=updated,
        finalizers=list(md.finalizers), labels=dict(md.labels),
        annotations=dict(md.annotations))


def resource_to_proto(r: Resource) -> resource_pb2.Resource:
    spec = resource_pb2.Spec(yaml_spec=spec_to_yaml(r.spec) if r.spec is not None else "",
                             proto_spec=protospec.encode(r.metadata.type, r.spec))
    return resource_pb2.Resource(metadata=metadata_to_proto(r.metadata), spec=spec)


def metadata_from_proto(pb: resource_pb2.Metadata) -> Metadata:
    try:
        version = int(pb.version or "0")
    except ValueError:
        raise InvalidArgument(
            f"resource metadata.version: expected an integer, got {pb.version!r}") from None
    try:
        phase = Phase(pb.phase or Phase.RUNNING.value)
    except ValueError:
        raise InvalidArgument(
            f"resource metadata.phase: expected 'running' or 'tearingDown', got {pb.phase!r}"
        ) from None
    kw: dict[str, Any] = {}
    if pb.HasField("created"):
        kw["created"] = pb.created.seconds * 1_000_000_000 + pb.created.nanos
    if pb.HasField("updated"):
        kw["updated"] = pb.updated.seconds * 1_000_000_000 + pb.updated.nanos
    return Metadata(pb.namespace, pb.type, pb.id, version=version, owner=pb.owner, phase=phase,
                    finalizers=tuple(pb.finalizers), labels=dict(pb.labels),
                    annotations=dict(pb.annotations), **kw)


def resource_from_proto(pb: resource_pb2.Resource) -> Resource:
    """Decode with the declared spec type when there is one, else keep the YAML (RawSpec)."""
    md = metadata_from_proto(pb.metadata)
    rt = lookup(md.type)
    spec: Any
    if rt is None:
        spec = RawSpec(pb.spec.yaml_spec)
    else:
        spec = spec_from_yaml(rt.spec, pb.spec.yaml_spec)
    return Resource(md, spec)
