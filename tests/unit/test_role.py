"""The one list of roles (talos.machinery.role) and every place that reads role names."""

from __future__ import annotations

import pytest

from talos.apid.authz import RULES
from talos.machinery import role
from talos.machinery.client.clientconfig import check_roles
from talos.machinery.config import load_config
from talos.machinery.errors import InvalidArgument, InvalidConfig
from tests.upstream_roles import UPSTREAM_ROLES

CRT = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="


def _controlplane_allowing(roles: list[str]) -> str:
    listed = "".join(f"        - {r}\n" for r in roles)
    return ("version: v1alpha1\nmachine:\n  type: controlplane\n"
            f"  ca:\n    crt: {CRT}\n    key: {CRT}\n"
            "  features:\n    hostDNS:\n      enabled: true\n      forwardKubeDNSToHost: true\n"
            "    kubernetesTalosAPIAccess:\n      enabled: true\n"
            f"      allowedRoles:\n{listed}"
            "cluster:\n  controlPlane:\n    endpoint: https://10.5.0.2:6443\n")


def test_all_is_upstreams_list_in_upstreams_order() -> None:
    assert set(role.ALL) == UPSTREAM_ROLES and len(role.ALL) == len(UPSTREAM_ROLES)
    assert role.ALL[:3] == (role.ADMIN, role.OPERATOR, role.READER)
    assert all(r.startswith(role.PREFIX) for r in role.ALL)


def test_authz_rules_only_name_known_roles() -> None:
    assert all(role.is_known(r) for allowed in RULES.values() for r in allowed)


def test_parse_keeps_unknown_roles_apart_and_skips_empty_names() -> None:
    roles, unknown = role.parse([" os:reader ", "", "os:root", "os:admin", "os:root"])
    assert roles == {"os:reader", "os:admin", "os:root"}
    assert unknown == ("os:root",)
    assert role.known([" os:reader ", "os:root", ""]) == {"os:reader"}


def test_check_names_every_unknown_role_and_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidArgument) as e:
        role.check(["os:reader", "os:root", "admin"])
    assert str(e.value) == ("unknown roles: os:root, admin (valid roles: "
                            + ", ".join(role.ALL) + ")")
    assert role.check(["os:reader", " os:admin", "os:reader"]) == ("os:reader", "os:admin")
    assert role.check([]) == ()


def test_client_configuration_needs_at_least_one_role() -> None:
    with pytest.raises(InvalidArgument, match=r"^at least one role is required \(valid roles: "):
        check_roles(["", " "])
    assert check_roles(list(role.ALL)) == role.ALL


def test_every_role_may_be_allowed_for_kubernetes_talos_api_access() -> None:
    """Upstream validates allowedRoles against role.All: meta:writer and image:verifier too."""
    load_config(_controlplane_allowing(list(role.ALL))).validate("container", strict=True)
    with pytest.raises(InvalidConfig) as e:
        load_config(_controlplane_allowing(["os:reader", "os:root"])).validate("container")
    problems = [str(p) for p in e.value.problems]
    assert problems == ['machine.features.kubernetesTalosAPIAccess.allowedRoles[1]: invalid '
                        'role "os:root" in allowed roles for Kubernetes Talos API Access: '
                        "expected one of " + ", ".join(role.ALL)]
