"""Resource definitions: Talos names, aliases, sensitivity, and what stock clients decode."""

from __future__ import annotations

import pytest

from talos.api.v1alpha1 import meta_pb2
from talos.cosi.meta import register_definitions
from talos.cosi.state import State
from talos.cosi.wire import resource_to_proto
from talos.machinery.errors import InvalidArgument
from talos.machinery.resources import is_sensitive, resolve
from talos.machinery.resources.definition import ResourceType, singular


def test_talos_type_names_and_aliases_resolve_case_insensitively() -> None:
    assert resolve("svc").type == "Services.v1alpha1.talos.dev"
    assert resolve("Service").default_namespace == "v1alpha1"
    assert resolve("MACHINECONFIG").type == "MachineConfigs.config.talos.dev"
    assert resolve("hostnamestatuses").default_namespace == "network"
    assert resolve("rd").type == "ResourceDefinitions.meta.cosi.dev"
    with pytest.raises(InvalidArgument, match="not registered"):
        resolve("frobnicators")


def test_sensitivity_is_one_question() -> None:
    assert is_sensitive("MachineConfigs.config.talos.dev")
    assert not is_sensitive("Services.v1alpha1.talos.dev")
    assert not is_sensitive("Unknown.example.com")


def test_bad_type_names_are_refused_with_the_expected_shape() -> None:
    with pytest.raises(InvalidArgument, match=r"expected '<PluralName>\.<group>'"):
        ResourceType("services", "v1alpha1", object)


@pytest.mark.parametrize(("plural", "single"), [
    ("Services", "Service"), ("HostnameStatuses", "HostnameStatus"),
    ("Policies", "Policy"), ("Addresses", "Address"), ("Members", "Member")])
def test_display_type_is_the_singular(plural: str, single: str) -> None:
    assert singular(plural) == single


async def test_definitions_carry_proto_specs_stock_clients_decode() -> None:
    state = State()
    await register_definitions(state)
    rd = await state.get("meta", "ResourceDefinitions.meta.cosi.dev",
                         "machineconfigs.config.talos.dev")
    pb = meta_pb2.ResourceDefinitionSpec()
    pb.ParseFromString(resource_to_proto(rd).spec.proto_spec)
    assert pb.resource_type == "MachineConfigs.config.talos.dev"
    assert pb.default_namespace == "config" and pb.display_type == "MachineConfig"
    assert pb.sensitivity == meta_pb2.ResourceDefinitionSpec.SENSITIVE
    assert "machineconfig" in pb.all_aliases
    names = [r.id for r in await state.list("meta", "Namespaces.meta.cosi.dev")]
    assert {"config", "network", "v1alpha1", "runtime", "meta", "secrets"} <= set(names)
    # registering again changes nothing (no new versions)
    await register_definitions(state)
    again = await state.get("meta", "ResourceDefinitions.meta.cosi.dev",
                            "machineconfigs.config.talos.dev")
    assert again.version == rd.version
