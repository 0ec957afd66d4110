"""The secrets bundle: upstream layout loads, ours round-trips, bad bundles list every problem."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from talos.machinery.errors import FailedPrecondition, InvalidConfig
from talos.machinery.pki import CertificateAuthority, load_private_key, verify_issued_by
from talos.machinery.pki.keys import new_private_key, private_key_to_pem
from talos.machinery.secrets import SecretsBundle


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def upstream_bundle_yaml() -> str:
    """A bundle written by hand in the layout `talosctl gen secrets` (Talos 1.10) writes:
    4-space indents, ECDSA etcd/k8s/aggregator CAs, an ECDSA service-account key and an
    Ed25519 OS CA under Talos's `ED25519 PRIVATE KEY` label."""
    etcd = CertificateAuthority.generate(organization="etcd").to_pem()
    k8s = CertificateAuthority.generate(organization="kubernetes").to_pem()
    agg = CertificateAuthority.generate(common_name="front-proxy").to_pem()
    os_ca = CertificateAuthority.generate(organization="talos", algorithm="ed25519").to_pem()
    sa = private_key_to_pem(new_private_key())
    return f"""cluster:
    id: cgvhCbucls-WqkESDTRqykFgb4hROI4cBpgB0YJLLtM=
    secret: Wiu0qx68V3MKhFDr8+OFwGCNOOPBiQCDsLpRa3MdxEQ=
secrets:
    bootstraptoken: 2psnp2.lry8e9gycdix3bpa
    secretboxencryptionsecret: 6zWBpno849HlD5jeuTmGToFYP+z8lgkJa0fhHobv7mE=
trustdinfo:
    token: oamejv.9tk1nhuwnlc2nghf
certs:
    etcd:
        crt: {b64(etcd.crt)}
        key: {b64(etcd.key)}
    k8s:
        crt: {b64(k8s.crt)}
        key: {b64(k8s.key)}
    k8saggregator:
        crt: {b64(agg.crt)}
        key: {b64(agg.key)}
    k8sserviceaccount:
        key: {b64(sa)}
    os:
        crt: {b64(os_ca.crt)}
        key: {b64(os_ca.key)}
"""


def test_upstream_bundle_with_ed25519_os_ca_loads_and_explains_grpc_limit() -> None:
    text = upstream_bundle_yaml()
    bundle = SecretsBundle.from_yaml(text, source="secrets.yaml")
    assert bundle.cluster_id == "cgvhCbucls-WqkESDTRqykFgb4hROI4cBpgB0YJLLtM="
    assert bundle.bootstrap_token == "2psnp2.lry8e9gycdix3bpa"
    assert bundle.trustd_token == "oamejv.9tk1nhuwnlc2nghf"
    assert b"ED25519 PRIVATE KEY" in bundle.os.key
    # writing it back reproduces the upstream file byte for byte
    assert bundle.to_yaml() == text
    with pytest.raises(FailedPrecondition, match=r"the OS CA uses Ed25519.*talosctl gen secrets"):
        bundle.client_certificate()


def test_generated_bundle_round_trips_and_is_grpc_capable(tmp_path: Path) -> None:
    bundle = SecretsBundle.generate()
    path = tmp_path / "sub" / "secrets.yaml"
    bundle.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SecretsBundle.load(path) == bundle
    data = YAML(typ="safe").load(path.read_text())
    assert list(data) == ["cluster", "secrets", "trustdinfo", "certs"]
    assert list(data["certs"]) == ["etcd", "k8s", "k8saggregator", "k8sserviceaccount", "os"]
    assert list(data["secrets"]) == ["bootstraptoken", "secretboxencryptionsecret"]
    assert len(base64.urlsafe_b64decode(data["cluster"]["id"])) == 32
    assert len(base64.b64decode(data["cluster"]["secret"])) == 32
    bundle.require_grpc_capable_os_ca()
    client = bundle.client_certificate()
    verify_issued_by(client.certificate, bundle.os.certificate)
    load_private_key(bundle.k8s_service_account_key)


def test_broken_bundle_reports_every_problem_with_its_path() -> None:
    text = upstream_bundle_yaml()
    data = YAML(typ="safe").load(text)
    del data["cluster"]["secret"]
    data["secrets"]["aescbcencryptionsecret"] = "x"
    data["trustdinfo"]["token"] = "NOT-A-TOKEN"
    data["certs"]["k8s"]["crt"] = "%%%"
    data["certs"]["os"]["key"] = data["certs"]["etcd"]["key"]
    data["extra"] = 1
    del data["certs"]["k8sserviceaccount"]
    import io
    buf = io.StringIO()
    YAML(typ="safe").dump(data, buf)
    with pytest.raises(InvalidConfig) as e:
        SecretsBundle.from_yaml(buf.getvalue(), source="bad.yaml")
    msg = str(e.value)
    assert msg.startswith("bad.yaml: 7 errors occurred:")
    for expected in (
        "extra: unknown field",
        "cluster.secret: is required",
        "only one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret]",
        "trustdinfo.token: invalid token format",
        "certs.k8s.crt: not valid base64",
        "certs.os: the key does not match the certificate",
        "certs.k8sserviceaccount.key: is required",
    ):
        assert expected in msg, msg


def test_yaml_syntax_error_names_line_and_column() -> None:
    with pytest.raises(InvalidConfig, match=r"s.yaml: line 3, column 1: expected .,. or .\]."):
        SecretsBundle.from_yaml("cluster:\n  id: [unclosed\n", source="s.yaml")
