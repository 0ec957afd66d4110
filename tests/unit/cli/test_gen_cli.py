"""`talosctl gen secrets|ca|key|csr|crt` end to end, files and errors."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from talos.machinery.pki import ca_hash, organizations_of, verify_issued_by
from talos.machinery.secrets import SecretsBundle

from .conftest import Run


def test_gen_secrets_writes_a_loadable_0600_bundle_and_refuses_to_overwrite(
        talosctl: Run, tmp_path: Path) -> None:
    r = talosctl("gen", "secrets")
    assert r.returncode == 0, r.stderr
    path = tmp_path / "secrets.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    bundle = SecretsBundle.load(path)
    bundle.require_grpc_capable_os_ca()
    r = talosctl("gen", "secrets")
    assert r.returncode == 1
    assert r.stderr == "Error: file 'secrets.yaml' already exists, use --force to overwrite\n"
    assert SecretsBundle.load(path) == bundle
    for force in (["gen", "secrets", "--force"], ["gen", "-f", "secrets"]):
        assert talosctl(*force).returncode == 0
        assert SecretsBundle.load(path) != bundle
    r = talosctl("gen", "secrets", "-o", "-")
    assert r.returncode == 0 and r.stdout.startswith("cluster:\n    id: ")
    SecretsBundle.from_yaml(r.stdout)


def test_gen_ca_key_csr_crt_chain(talosctl: Run, tmp_path: Path) -> None:
    r = talosctl("gen", "ca", "--organization", "myorg", "--hours", "48")
    assert r.returncode == 0, r.stderr
    ca = x509.load_pem_x509_certificate((tmp_path / "myorg.crt").read_bytes())
    assert organizations_of(ca) == ["myorg"]
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert (tmp_path / "myorg.sha256").read_text() == ca_hash(ca)
    assert stat.S_IMODE((tmp_path / "myorg.key").stat().st_mode) == 0o600

    assert talosctl("gen", "key", "--name", "admin").returncode == 0
    assert b"EC PRIVATE KEY" in (tmp_path / "admin.key").read_bytes()
    r = talosctl("gen", "csr", "--key", "admin.key", "--ip", "10.5.0.2",
                 "--roles", "os:reader,os:etcd:backup")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "admin.csr").exists()
    r = talosctl("gen", "crt", "--name", "admin", "--ca", "myorg", "--csr", "admin.csr",
                 "--hours", "1")
    assert r.returncode == 0, r.stderr
    crt = x509.load_pem_x509_certificate((tmp_path / "admin.crt").read_bytes())
    verify_issued_by(crt, ca)
    assert organizations_of(crt) == ["os:reader", "os:etcd:backup"]
    lifetime = crt.not_valid_after_utc - crt.not_valid_before_utc
    assert lifetime.total_seconds() <= 3600 + 600


def test_gen_ca_rsa(talosctl: Run, tmp_path: Path) -> None:
    assert talosctl("gen", "ca", "--organization", "r", "--rsa").returncode == 0
    ca = x509.load_pem_x509_certificate((tmp_path / "r.crt").read_bytes())
    assert isinstance(ca.public_key(), rsa.RSAPublicKey)


def test_gen_errors_are_one_clear_line(talosctl: Run, tmp_path: Path) -> None:
    r = talosctl("gen", "ca")
    assert r.returncode == 2 and "Missing option '--organization'" in r.stderr
    (tmp_path / "bad.key").write_text("nope")
    r = talosctl("gen", "csr", "--key", "bad.key", "--ip", "10.5.0.2")
    assert r.returncode == 1
    assert r.stderr == "Error: bad.key: not a PEM block (no '-----BEGIN ...-----' line)\n"
    assert talosctl("gen", "key", "--name", "k").returncode == 0
    r = talosctl("gen", "csr", "--key", "k.key", "--ip", "not-an-ip")
    assert r.returncode == 1 and r.stderr == "Error: invalid IP: not-an-ip\n"
    r = talosctl("gen", "csr", "--key", "k.key", "--ip", "1.2.3.4", "--roles", "os:root")
    assert r.returncode == 1
    assert r.stderr == ("Error: unknown roles: os:root (valid roles: os:admin, os:operator, "
                        "os:reader, os:etcd:backup, os:image:verifier, os:meta:writer, "
                        "os:impersonator)\n")
    r = talosctl("gen", "crt", "--name", "x", "--ca", "missing", "--csr", "k.csr")
    assert r.returncode == 1
    assert r.stderr == "Error: No such file or directory: 'missing.crt'\n"
    r = talosctl("gen", "key", "--name", "k")
    assert r.returncode == 1 and "already exists, use --force to overwrite" in r.stderr


def test_gen_secrets_from_kubernetes_pki(talosctl: Run, tmp_path: Path) -> None:
    from talos.machinery.pki import CertificateAuthority
    from talos.machinery.pki.keys import new_private_key, private_key_to_pem

    pki = tmp_path / "pki"
    (pki / "etcd").mkdir(parents=True)
    cas = {}
    for base in ("ca", "etcd/ca", "front-proxy-ca"):
        pem = CertificateAuthority.generate(organization=base).to_pem()
        (pki / f"{base}.crt").write_bytes(pem.crt)
        (pki / f"{base}.key").write_bytes(pem.key)
        cas[base] = pem
    (pki / "sa.key").write_bytes(private_key_to_pem(new_private_key()))
    r = talosctl("gen", "secrets", "-p", "pki", "-t", "abcdef.0123456789abcdef")
    assert r.returncode == 0, r.stderr
    bundle = SecretsBundle.load(tmp_path / "secrets.yaml")
    assert bundle.k8s == cas["ca"] and bundle.etcd == cas["etcd/ca"]
    assert bundle.k8s_aggregator == cas["front-proxy-ca"]
    assert bundle.bootstrap_token == "abcdef.0123456789abcdef"
    (pki / "sa.key").unlink()
    r = talosctl("gen", "secrets", "-p", "pki", "-o", "x.yaml")
    assert r.returncode == 1 and "sa.key: No such file or directory" in r.stderr


def test_gen_keypair_is_self_signed_for_the_ip(talosctl: Run, tmp_path: Path) -> None:
    import ipaddress

    r = talosctl("gen", "keypair", "--organization", "kp", "--ip", "10.5.0.9")
    assert r.returncode == 0, r.stderr
    crt = x509.load_pem_x509_certificate((tmp_path / "kp.crt").read_bytes())
    verify_issued_by(crt, crt)
    san = crt.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.5.0.9")]
    assert stat.S_IMODE((tmp_path / "kp.key").stat().st_mode) == 0o600
    r = talosctl("gen", "keypair", "--organization", "kp2", "--ip", "nope")
    assert r.returncode == 1 and r.stderr == "Error: invalid IP: nope\n"
