"""The client names its own certificate's validity problem (checked after a handshake
failure): expired (when, how long ago) or not valid yet; nothing while it is valid."""

from __future__ import annotations

import datetime as dt

from talos.machinery.client.connection import client_certificate_problem
from talos.machinery.pki import CertificateAuthority, IssueOptions

ISSUED = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _client_crt() -> bytes:
    ca = CertificateAuthority.generate(organization="talos")
    return ca.issue_key_pair(IssueOptions(organizations=("os:admin",),
                                          ttl=dt.timedelta(hours=1)), now=ISSUED).crt


def test_expired_client_certificate_names_when_and_how_long_ago() -> None:
    crt = _client_crt()
    problem = client_certificate_problem(crt, now=ISSUED + dt.timedelta(hours=3, minutes=30))
    assert problem.startswith("the client certificate in your talosconfig expired at "
                              "2026-03-01T13:00:00Z (2h30m0s ago)"), problem


def test_client_certificate_not_valid_yet_suspects_the_clock() -> None:
    crt = _client_crt()
    problem = client_certificate_problem(crt, now=ISSUED - dt.timedelta(days=1))
    assert "is not valid before" in problem and "clock" in problem


def test_valid_or_unreadable_client_certificate_is_no_problem() -> None:
    crt = _client_crt()
    assert client_certificate_problem(crt, now=ISSUED + dt.timedelta(minutes=30)) == ""
    assert client_certificate_problem(b"") == ""
    assert client_certificate_problem(b"not a certificate") == ""
