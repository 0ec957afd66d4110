"""Golden wire fixtures for machine.MachineService (issue 3, part 4).

The expected field numbers, wire types, enums and RPC shapes come from
``upstream_machine.py``, transcribed from upstream Talos independently of our proto/.
Each message must (a) decode the golden bytes to the expected values, (b) encode those
values to the same bytes, and (c) declare exactly the upstream fields.
"""

from __future__ import annotations

import pytest
from golden import (
    Schema,
    assert_descriptor_matches,
    assert_enum_matches,
    assert_message_matches,
    assert_service_matches,
    encode_fields,
    reachable_enums,
    reachable_messages,
)
from google.protobuf import any_pb2, descriptor_pool
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from upstream_machine import EVENT_PAYLOADS, MACHINE

import talos.api.machine.machine_pb2 as machine_pb2
import talos.api.machine.machine_pb2_grpc as machine_pb2_grpc

SERVICE = "machine.MachineService"
POOL = descriptor_pool.Default()

# Methods issue 3 requires us to declare (the rest of upstream's service is declared too).
REQUIRED_METHODS = {
    "Version", "Hostname", "ServiceList", "ServiceStart", "ServiceStop", "ServiceRestart",
    "Logs", "Dmesg", "Events", "ApplyConfiguration", "Bootstrap", "Reboot", "Shutdown",
    "Reset", "Upgrade", "Kubeconfig", "GenerateClientConfiguration", "Memory", "Processes",
    "SystemStat", "CPUInfo", "LoadAvg", "DiskStats", "Mounts", "NetworkDeviceStats", "List",
    "Read", "Copy", "DiskUsage", "EtcdMemberList", "EtcdRemoveMember", "EtcdLeaveCluster",
    "EtcdForfeitLeadership", "EtcdSnapshot", "EtcdRecover", "EtcdStatus",
}

COVERED = sorted(reachable_messages(MACHINE, SERVICE, roots=EVENT_PAYLOADS))
ENUMS = sorted(reachable_enums(MACHINE, COVERED))


def _cls(full_name: str) -> type[Message]:
    return GetMessageClass(POOL.FindMessageTypeByName(full_name))


def test_service_matches_upstream() -> None:
    assert_service_matches(machine_pb2.DESCRIPTOR.services_by_name["MachineService"], MACHINE)


def test_issue_methods_are_declared() -> None:
    declared = set(machine_pb2.DESCRIPTOR.services_by_name["MachineService"].methods_by_name)
    assert REQUIRED_METHODS <= declared, sorted(REQUIRED_METHODS - declared)


def test_grpc_stubs_expose_every_method() -> None:
    # The generated servicer base class answers UNIMPLEMENTED for each declared method.
    servicer = machine_pb2_grpc.MachineServiceServicer
    for name in MACHINE.services[SERVICE]:
        assert callable(getattr(servicer, name)), name


def test_every_machine_message_is_covered() -> None:
    """Every message of our machine package is reachable from an RPC or an event payload,
    and has a golden table (so nothing we declare escapes the fixtures)."""
    ours: set[str] = set()

    def walk(desc: object) -> None:
        for nested in desc.nested_types:  # type: ignore[attr-defined]
            if not nested.GetOptions().map_entry:
                ours.add(nested.full_name)
                walk(nested)

    for desc in machine_pb2.DESCRIPTOR.message_types_by_name.values():
        ours.add(desc.full_name)
        walk(desc)
    golden_machine = {n for n in MACHINE.messages if n.startswith("machine.")}
    assert ours == golden_machine, (sorted(ours - golden_machine), sorted(golden_machine - ours))
    assert golden_machine <= set(COVERED), sorted(golden_machine - set(COVERED))


def test_schema_is_closed() -> None:
    assert MACHINE.check_closed() == []


@pytest.mark.parametrize("name", COVERED)
def test_message_matches_upstream(name: str) -> None:
    assert_message_matches(_cls(name), MACHINE)


@pytest.mark.parametrize("name", ENUMS)
def test_enum_matches_upstream(name: str) -> None:
    assert_enum_matches(POOL.FindEnumTypeByName(name), MACHINE)


def test_apply_configuration_request_literal_bytes() -> None:
    # Hand-checked literal: data="x" (1, LEN), mode=TRY (4, varint 4), dry_run (5, varint 1),
    # try_mode_timeout = 60s (6, LEN { 1: varint 60 }).
    raw = bytes.fromhex("0a0178" "2004" "2801" "3202083c")
    assert encode_fields(MACHINE, "machine.ApplyConfigurationRequest", {
        "data": b"x", "mode": 4, "dry_run": True, "try_mode_timeout": {"seconds": 60}}) == raw
    req = machine_pb2.ApplyConfigurationRequest.FromString(raw)
    assert req.mode == machine_pb2.ApplyConfigurationRequest.TRY
    assert req.dry_run and req.try_mode_timeout.seconds == 60 and req.data == b"x"


def test_event_payload_travels_in_any() -> None:
    # Events carry payloads as google.protobuf.Any with type URL talos/runtime/<full name>
    # upstream; the payload bytes inside must be the golden encoding.
    payload = {"service": "etcd", "action": 8, "message": "Starting"}
    golden = encode_fields(MACHINE, "machine.ServiceStateEvent", payload)
    event = machine_pb2.Event(id="1", data=any_pb2.Any(
        type_url="talos/runtime/machine.ServiceStateEvent", value=golden))
    back = machine_pb2.Event.FromString(event.SerializeToString())
    sse = machine_pb2.ServiceStateEvent.FromString(back.data.value)
    assert sse.action == machine_pb2.ServiceStateEvent.STARTING
    assert sse.SerializeToString() == golden


def test_field_drift_would_fail() -> None:
    # Renumbering a field in the table (as if our proto drifted) must be caught.
    messages = dict(MACHINE.messages)
    messages["machine.ShutdownRequest"] = [(2, "bool", "force")]
    drifted = Schema(messages, MACHINE.enums, MACHINE.services)
    with pytest.raises(AssertionError, match="field 1"):
        assert_descriptor_matches(machine_pb2.ShutdownRequest.DESCRIPTOR, drifted)
