"""apid's authorization (talos.apid.authz) against upstream Talos's own method -> roles
table (tests/upstream_roles.py, transcribed from siderolabs/talos), not against itself:
every method of either table and every method this apid serves, with every role."""

from __future__ import annotations

import pytest

from talos.apid.authz import authorize
from talos.apid.methods import known_methods
from talos.machinery import role
from talos.machinery.errors import PermissionDenied
from tests.upstream_roles import (
    DIFFERENCES,
    ETCD_BACKUP,
    IMAGE_VERIFIER,
    IMPERSONATOR,
    META_WRITER,
    METHODS,
    NOT_SERVED,
    READER,
    UPSTREAM,
    UPSTREAM_ROLES,
    M,
    expected_roles,
)


def test_we_know_every_upstream_role() -> None:
    assert frozenset(role.ALL) == UPSTREAM_ROLES


@pytest.mark.parametrize("method", METHODS)
def test_each_role_is_allowed_exactly_what_upstream_allows(method: str) -> None:
    allowed = expected_roles(method)
    for name in [*sorted(UPSTREAM_ROLES), "os:not-a-role", ""]:
        roles = role.known([name])
        if name in allowed:
            authorize(method, roles)
        else:
            with pytest.raises(PermissionDenied, match="not authorized"):
                authorize(method, roles)


def test_differences_are_real_and_explained() -> None:
    """A listed difference that is no longer one (or a method upstream dropped) must go."""
    for method, (ours, reason) in DIFFERENCES.items():
        assert method in UPSTREAM, method
        assert ours != UPSTREAM[method], f"{method} no longer differs: remove it"
        assert reason
    not_served = {m for m, (_, why) in DIFFERENCES.items() if why == NOT_SERVED}
    assert not not_served & set(known_methods()), "now served: follow upstream's roles"


def test_several_roles_get_the_union() -> None:
    authorize(M + "MetaWrite", role.known([READER, META_WRITER]))
    authorize(M + "EtcdSnapshot", role.known([IMPERSONATOR, ETCD_BACKUP]))
    with pytest.raises(PermissionDenied):
        authorize(M + "Reboot", role.known([READER, ETCD_BACKUP, META_WRITER, IMAGE_VERIFIER]))
