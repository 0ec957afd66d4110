"""machined's GenerateClientConfiguration rules (control planes only, CA from the config)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from talos.machined.config import parse_config
from talos.machined.server.clientconfig import client_configuration, context_name
from talos.machinery.errors import FailedPrecondition, InvalidArgument
from talos.machinery.pki import CertificateAuthority, load_certificate, verify_issued_by

CONFIG = """version: v1alpha1
machine:
  type: {type}
  ca:
    crt: {crt}
    key: {key}
cluster:
  clusterName: demo
"""


def _config(ca: CertificateAuthority, type_: str = "controlplane", key: bool = True) -> bytes:
    pem = ca.to_pem()
    return CONFIG.format(type=type_, crt=base64.b64encode(pem.crt).decode(),
                         key=base64.b64encode(pem.key).decode() if key else '""').encode()


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.generate(organization="talos")


def test_control_plane_issues_from_machine_ca(ca: CertificateAuthority) -> None:
    out = client_configuration(parse_config(_config(ca)), ["os:operator", "os:reader"],
                               dt.timedelta(hours=1))
    verify_issued_by(load_certificate(out.crt), ca.cert)
    assert b"context: demo\n" in out.talosconfig


def test_context_name_is_role_at_cluster_for_one_role() -> None:
    assert context_name("demo", ("os:reader",)) == "reader@demo"
    assert context_name("demo", ("os:etcd:backup",)) == "etcd:backup@demo"
    assert context_name("demo", ("os:admin", "os:reader")) == "demo"


def test_workers_and_nodes_without_ca_key_refuse(ca: CertificateAuthority) -> None:
    with pytest.raises(FailedPrecondition, match="worker nodes"):
        client_configuration(parse_config(_config(ca, "worker")), ["os:reader"],
                             dt.timedelta(hours=1))
    with pytest.raises(FailedPrecondition, match=r"machine\.ca"):
        client_configuration(parse_config(_config(ca, key=False)), ["os:reader"],
                             dt.timedelta(hours=1))
    with pytest.raises(FailedPrecondition, match="no machine config"):
        client_configuration(None, ["os:reader"], dt.timedelta(hours=1))


def test_bad_roles_and_ttl_are_invalid_argument(ca: CertificateAuthority) -> None:
    cfg = parse_config(_config(ca))
    with pytest.raises(InvalidArgument, match=r"unknown roles: os:god .*os:admin"):
        client_configuration(cfg, ["os:god"], dt.timedelta(hours=1))
    with pytest.raises(InvalidArgument, match="crt_ttl should be positive"):
        client_configuration(cfg, ["os:reader"], dt.timedelta(0))
