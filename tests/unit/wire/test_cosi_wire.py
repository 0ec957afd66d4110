"""Golden wire fixtures for the COSI State API (packages ``cosi.resource`` and
``cosi.resource.meta``).

Transcribed by hand from cosi-project/specification ``proto/v1alpha1/{resource,state,meta}.proto``
(state.proto at 09c012d0 with Teardown/TeardownAndDestroy; IDQuery as in cosi-project/runtime's
generated resource.pb.go at ae7616c9; LabelTerm with repeated value, invert and the IN/LT/LTE/
LT_NUMERIC/LTE_NUMERIC operations as in resource.proto at 09c012d0, used by cosi-project/runtime
v1.14.1, which Talos v1.13.9 depends on). Independent of our proto/. Talos clients register these
files as ``v1alpha1/resource.proto`` etc., so the file names are checked too.
"""

from __future__ import annotations

import pytest
from filecheck import assert_values_roundtrip, declared_types, message_class, values_strategy
from golden import (
    WELL_KNOWN,
    Schema,
    assert_enum_matches,
    assert_message_matches,
    assert_service_matches,
)
from google.protobuf.descriptor import FileDescriptor
from hypothesis import given, settings
from hypothesis import strategies as st

import talos.api.v1alpha1.meta_pb2 as meta_pb2
import talos.api.v1alpha1.resource_pb2 as resource_pb2
import talos.api.v1alpha1.state_pb2 as state_pb2

R = "cosi.resource"
RESOURCE = {
    f"{R}.Metadata": [
        (1, "string", "namespace"), (2, "string", "type"), (3, "string", "id"),
        (4, "string", "version"), (5, "string", "owner"), (6, "string", "phase"),
        (7, "msg:google.protobuf.Timestamp", "created"),
        (8, "msg:google.protobuf.Timestamp", "updated"),
        (9, "repeated string", "finalizers"), (10, "map<string,string>", "labels"),
        (11, "map<string,string>", "annotations")],
    f"{R}.Spec": [(1, "bytes", "proto_spec"), (2, "string", "yaml_spec")],
    f"{R}.Resource": [(1, f"msg:{R}.Metadata", "metadata"), (2, f"msg:{R}.Spec", "spec")],
    f"{R}.LabelTerm": [(1, "string", "key"), (2, f"enum:{R}.LabelTerm.Operation", "op"),
                       (3, "repeated string", "value"), (5, "bool", "invert")],
    f"{R}.LabelQuery": [(1, f"repeated msg:{R}.LabelTerm", "terms")],
    f"{R}.IDQuery": [(1, "string", "regexp")],
}
RESOURCE_ENUMS = {f"{R}.LabelTerm.Operation": {
    "EXISTS": 0, "EQUAL": 1, "NOT_EXISTS": 2, "IN": 3, "LT": 4, "LTE": 5, "LT_NUMERIC": 6,
    "LTE_NUMERIC": 7}}

_ptr = [(1, "string", "namespace"), (2, "string", "type"), (3, "string", "id")]
_owner = [(1, "string", "owner")]
STATE = {
    f"{R}.Event": [(1, f"msg:{R}.Resource", "resource"), (2, f"enum:{R}.EventType", "event_type"),
                   (3, f"msg:{R}.Resource", "old"), (4, "optional string", "error"),
                   (5, "optional bytes", "bookmark")],
    f"{R}.GetRequest": [*_ptr, (4, f"msg:{R}.GetOptions", "options")],
    f"{R}.GetOptions": [],
    f"{R}.GetResponse": [(1, f"msg:{R}.Resource", "resource")],
    f"{R}.ListRequest": [(1, "string", "namespace"), (2, "string", "type"),
                         (3, f"msg:{R}.ListOptions", "options")],
    f"{R}.ListOptions": [(1, f"repeated msg:{R}.LabelQuery", "label_query"),
                         (2, f"msg:{R}.IDQuery", "id_query")],
    f"{R}.ListResponse": [(1, f"msg:{R}.Resource", "resource")],
    f"{R}.CreateRequest": [(1, f"msg:{R}.Resource", "resource"),
                           (2, f"msg:{R}.CreateOptions", "options")],
    f"{R}.CreateOptions": _owner,
    f"{R}.CreateResponse": [(1, f"msg:{R}.Resource", "resource")],
    f"{R}.UpdateRequest": [(2, f"msg:{R}.Resource", "new_resource"),
                           (3, f"msg:{R}.UpdateOptions", "options")],
    f"{R}.UpdateOptions": [(1, "string", "owner"), (2, "optional string", "expected_phase")],
    f"{R}.UpdateResponse": [(1, f"msg:{R}.Resource", "resource")],
    f"{R}.DestroyRequest": [*_ptr, (4, f"msg:{R}.DestroyOptions", "options")],
    f"{R}.DestroyOptions": _owner,
    f"{R}.DestroyResponse": [],
    f"{R}.WatchRequest": [(1, "string", "namespace"), (2, "string", "type"),
                          (3, "optional string", "id"), (4, f"msg:{R}.WatchOptions", "options"),
                          (5, "int32", "api_version")],
    f"{R}.WatchOptions": [(1, "bool", "bootstrap_contents"), (2, "int32", "tail_events"),
                          (3, f"repeated msg:{R}.LabelQuery", "label_query"),
                          (4, f"msg:{R}.IDQuery", "id_query"), (5, "bool", "aggregated"),
                          (6, "optional bytes", "start_from_bookmark"),
                          (7, "bool", "bootstrap_bookmark")],
    f"{R}.WatchResponse": [(1, f"repeated msg:{R}.Event", "event")],
    f"{R}.TeardownRequest": [*_ptr, (4, f"msg:{R}.TeardownOptions", "options")],
    f"{R}.TeardownOptions": _owner,
    f"{R}.TeardownResponse": [(1, "bool", "destroy_ready")],
    f"{R}.TeardownAndDestroyRequest": [*_ptr,
                                       (4, f"msg:{R}.TeardownAndDestroyOptions", "options")],
    f"{R}.TeardownAndDestroyOptions": _owner,
    f"{R}.TeardownAndDestroyResponse": [],
}
STATE_ENUMS = {f"{R}.EventType": {"CREATED": 0, "UPDATED": 1, "DESTROYED": 2,
                                  "BOOTSTRAPPED": 3, "ERRORED": 4, "NOOP": 5}}
STATE_SERVICES = {f"{R}.State": {
    "Get": (f"{R}.GetRequest", f"{R}.GetResponse", False, False),
    "List": (f"{R}.ListRequest", f"{R}.ListResponse", False, True),
    "Create": (f"{R}.CreateRequest", f"{R}.CreateResponse", False, False),
    "Update": (f"{R}.UpdateRequest", f"{R}.UpdateResponse", False, False),
    "Destroy": (f"{R}.DestroyRequest", f"{R}.DestroyResponse", False, False),
    "Watch": (f"{R}.WatchRequest", f"{R}.WatchResponse", False, True),
    "Teardown": (f"{R}.TeardownRequest", f"{R}.TeardownResponse", False, False),
    "TeardownAndDestroy": (f"{R}.TeardownAndDestroyRequest",
                           f"{R}.TeardownAndDestroyResponse", False, False),
}}

M = "cosi.resource.meta"
META = {
    f"{M}.NamespaceSpec": [(1, "string", "description")],
    f"{M}.ResourceDefinitionSpec": [
        (1, "string", "resource_type"), (2, "string", "display_type"),
        (3, "string", "default_namespace"), (4, "repeated string", "aliases"),
        (5, "repeated string", "all_aliases"),
        (6, f"repeated msg:{M}.ResourceDefinitionSpec.PrintColumn", "print_columns"),
        (7, f"enum:{M}.ResourceDefinitionSpec.Sensitivity", "sensitivity")],
    f"{M}.ResourceDefinitionSpec.PrintColumn": [(1, "string", "name"),
                                                (2, "string", "json_path")],
}
META_ENUMS = {f"{M}.ResourceDefinitionSpec.Sensitivity": {"NON_SENSITIVE": 0, "SENSITIVE": 1}}

SCHEMA = Schema(messages={**RESOURCE, **STATE, **META},
                enums={**RESOURCE_ENUMS, **STATE_ENUMS, **META_ENUMS},
                services=STATE_SERVICES).merge(WELL_KNOWN)

FILES: list[tuple[FileDescriptor, str, dict, dict, dict]] = [
    (resource_pb2.DESCRIPTOR, "v1alpha1/resource.proto", RESOURCE, RESOURCE_ENUMS, {}),
    (state_pb2.DESCRIPTOR, "v1alpha1/state.proto", STATE, STATE_ENUMS, STATE_SERVICES),
    (meta_pb2.DESCRIPTOR, "v1alpha1/meta.proto", META, META_ENUMS, {}),
]


@pytest.mark.parametrize(("fd", "path", "messages", "enums", "services"), FILES,
                         ids=[f[1] for f in FILES])
def test_file_declares_exactly_upstream_types(fd: FileDescriptor, path: str, messages: dict,
                                              enums: dict, services: dict) -> None:
    assert fd.name == path
    assert declared_types(fd) == (set(messages), set(enums), set(services))
    assert not SCHEMA.check_closed()


def test_state_service_matches_upstream() -> None:
    assert_service_matches(state_pb2.DESCRIPTOR.services_by_name["State"], SCHEMA)


@pytest.mark.parametrize("name", sorted({**RESOURCE, **STATE, **META}))
def test_message_matches_upstream(name: str) -> None:
    assert_message_matches(message_class(name), SCHEMA)


@pytest.mark.parametrize("name", sorted({**RESOURCE_ENUMS, **STATE_ENUMS, **META_ENUMS}))
def test_enum_matches_upstream(name: str) -> None:
    from google.protobuf import descriptor_pool
    assert_enum_matches(descriptor_pool.Default().FindEnumTypeByName(name), SCHEMA)


@pytest.mark.parametrize("name", [f"{R}.Resource", f"{R}.WatchResponse",
                                  f"{M}.ResourceDefinitionSpec"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_random_values_roundtrip(name: str, data: st.DataObject) -> None:
    assert_values_roundtrip(SCHEMA, name, data.draw(values_strategy(SCHEMA, name)))
