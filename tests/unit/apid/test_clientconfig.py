"""GenerateClientConfiguration's certificate and talosconfig."""

from __future__ import annotations

import datetime as dt

import pytest

from talos.machinery.client.clientconfig import generate_client_configuration
from talos.machinery.client.talosconfig import Talosconfig
from talos.machinery.errors import InvalidArgument
from talos.machinery.pki import (
    CertificateAuthority,
    load_certificate,
    organizations_of,
    verify_issued_by,
)


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.generate(organization="talos")


def test_issues_a_certificate_with_the_roles_and_ttl(ca: CertificateAuthority) -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    out = generate_client_configuration(ca, ["os:reader", "os:reader"], dt.timedelta(hours=2),
                                        context_name="demo", endpoints=["10.5.0.2"], now=now)
    cert = load_certificate(out.crt)
    verify_issued_by(cert, ca.cert)
    assert organizations_of(cert) == ["os:reader"]
    assert cert.not_valid_after_utc == now + dt.timedelta(hours=2)
    cfg = Talosconfig.from_yaml(out.talosconfig)
    ctx = cfg.get()
    assert cfg.context == "demo" and ctx.endpoints == ("10.5.0.2",)
    assert ctx.ca_pem == ca.to_pem().crt and ctx.client.crt == out.crt
    assert ctx.client.key == out.key


@pytest.mark.parametrize(("roles", "ttl", "match"), [
    ([], dt.timedelta(hours=1), "at least one role"),
    (["os:root"], dt.timedelta(hours=1), "unknown roles: os:root"),
    (["os:reader"], dt.timedelta(0), "crt_ttl"),
    (["os:reader"], -dt.timedelta(hours=1), "crt_ttl"),
])
def test_bad_requests_are_invalid_argument(ca: CertificateAuthority, roles: list[str],
                                           ttl: dt.timedelta, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        generate_client_configuration(ca, roles, ttl, context_name="demo")
