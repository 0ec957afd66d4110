"""`talosctl gen config` end to end: files, options, secrets, patches, errors."""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

from cryptography import x509
from ruamel.yaml import YAML

from talos.machinery.client.talosconfig import Talosconfig
from talos.machinery.pki import CertificateAuthority, organizations_of, verify_issued_by
from talos.machinery.secrets import SecretsBundle

from .conftest import Run

ENDPOINT = "https://10.5.0.2:6443"


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def test_gen_config_writes_three_files_that_belong_together(talosctl: Run,
                                                            tmp_path: Path) -> None:
    r = talosctl("gen", "config", "demo", ENDPOINT)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ("generating PKI and tokens\n"
                        f"Created {tmp_path}/controlplane.yaml\n"
                        f"Created {tmp_path}/worker.yaml\n"
                        f"Created {tmp_path}/talosconfig\n")
    cp, worker = load(tmp_path / "controlplane.yaml"), load(tmp_path / "worker.yaml")
    assert cp["machine"]["type"] == "controlplane" and worker["machine"]["type"] == "worker"
    assert cp["cluster"]["clusterName"] == "demo"
    assert cp["cluster"]["controlPlane"]["endpoint"] == ENDPOINT
    assert cp["machine"]["ca"]["crt"] == worker["machine"]["ca"]["crt"]
    for name in ("controlplane.yaml", "worker.yaml", "talosconfig"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    tc = Talosconfig.load(tmp_path / "talosconfig")
    assert tc.context == "demo"
    os_ca = x509.load_pem_x509_certificate(base64.b64decode(cp["machine"]["ca"]["crt"]))
    client = tc.get().client.certificate
    verify_issued_by(client, os_ca)
    assert organizations_of(client) == ["os:admin"]
    # nothing is overwritten without --force; the message names the file
    r = talosctl("gen", "config", "demo", ENDPOINT)
    assert r.returncode == 1
    assert r.stderr == (f"Error: file '{tmp_path}/controlplane.yaml' already exists, "
                        "use --force to overwrite\n")
    assert talosctl("gen", "config", "demo", ENDPOINT, "--force").returncode == 0


def test_options_reach_the_configs(talosctl: Run, tmp_path: Path) -> None:
    r = talosctl("gen", "config", "c1", "https://lb.example.com:443", "-o", "out",
                 "--install-disk", "/dev/vda", "--additional-sans", "1.2.3.4,san.example.com",
                 "--kubernetes-version", "1.32.1", "--dns-domain", "corp.internal")
    assert r.returncode == 0, r.stderr
    cp = load(tmp_path / "out" / "controlplane.yaml")
    worker = load(tmp_path / "out" / "worker.yaml")
    assert cp["machine"]["install"]["disk"] == worker["machine"]["install"]["disk"] == "/dev/vda"
    assert cp["machine"]["certSANs"] == ["1.2.3.4", "san.example.com"]
    assert cp["cluster"]["apiServer"]["certSANs"] == ["lb.example.com", "1.2.3.4",
                                                      "san.example.com"]
    assert cp["cluster"]["apiServer"]["image"].endswith(":v1.32.1")
    assert worker["machine"]["kubelet"]["image"].endswith(":v1.32.1")
    assert worker["cluster"]["network"]["dnsDomain"] == "corp.internal"


def test_with_secrets_reuses_the_bundle(talosctl: Run, tmp_path: Path) -> None:
    assert talosctl("gen", "secrets").returncode == 0
    bundle = SecretsBundle.load(tmp_path / "secrets.yaml")
    r = talosctl("gen", "config", "demo", ENDPOINT, "--with-secrets", "secrets.yaml")
    assert r.returncode == 0, r.stderr
    assert "generating PKI" not in r.stderr
    cp = load(tmp_path / "controlplane.yaml")
    assert cp["cluster"]["id"] == bundle.cluster_id
    assert cp["machine"]["token"] == bundle.trustd_token
    assert base64.b64decode(cp["cluster"]["etcd"]["ca"]["key"]) == bundle.etcd.key
    r = talosctl("gen", "secrets", "--from-controlplane-config", "controlplane.yaml",
                 "-o", "again.yaml")
    assert r.returncode == 0, r.stderr
    assert SecretsBundle.load(tmp_path / "again.yaml") == bundle


def test_upstream_ed25519_bundle_explains_how_to_regenerate(talosctl: Run,
                                                            tmp_path: Path) -> None:
    ed25519_os_ca = CertificateAuthority.generate(organization="talos", algorithm="ed25519")
    upstream = SecretsBundle.generate().with_changes(os=ed25519_os_ca.to_pem())
    (tmp_path / "upstream.yaml").write_text(upstream.to_yaml())
    r = talosctl("gen", "config", "demo", ENDPOINT, "--with-secrets", "upstream.yaml")
    assert r.returncode == 1
    assert r.stderr == ("Error: the OS CA uses Ed25519, which gRPC cannot serve here; "
                        "regenerate with `talosctl gen secrets` (ECDSA P-256)\n")
    assert not (tmp_path / "controlplane.yaml").exists()
    r = talosctl("gen", "config", "demo", ENDPOINT, "--with-secrets", "upstream.yaml",
                 "-t", "controlplane,worker")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "controlplane.yaml").exists() and not (tmp_path / "talosconfig").exists()


def test_output_types_and_stdout(talosctl: Run, tmp_path: Path) -> None:
    r = talosctl("gen", "config", "demo", ENDPOINT, "-t", "worker", "-o", "-")
    assert r.returncode == 0, r.stderr
    assert YAML(typ="safe").load(r.stdout)["machine"]["type"] == "worker"
    r = talosctl("gen", "config", "demo", ENDPOINT, "-t", "talosconfig", "-o", "tc")
    assert r.returncode == 0, r.stderr
    assert Talosconfig.load(tmp_path / "tc").context == "demo"
    r = talosctl("gen", "config", "demo", ENDPOINT, "-o", "-")
    assert r.returncode == 1
    assert r.stderr == "Error: can't use multiple output types with stdout\n"
    r = talosctl("gen", "config", "demo", ENDPOINT, "-t", "kubeconfig")
    assert r.returncode == 1 and "invalid output type: 'kubeconfig'" in r.stderr


def test_bad_endpoint_suggests_a_fix(talosctl: Run, tmp_path: Path) -> None:
    r = talosctl("gen", "config", "demo", "10.5.0.2")
    assert r.returncode == 1
    assert r.stderr == ("Error: no scheme and port specified for the cluster endpoint URL\n"
                        'try: "https://10.5.0.2:6443"\n')
    r = talosctl("gen", "config", "demo")
    assert r.returncode == 2 and "Missing argument" in r.stderr
    assert not (tmp_path / "controlplane.yaml").exists()


def test_patches_apply_per_machine_type(talosctl: Run, tmp_path: Path) -> None:
    (tmp_path / "all.yaml").write_text("machine:\n  network:\n    hostname: common\n")
    r = talosctl("gen", "config", "demo", ENDPOINT,
                 "--config-patch", "@all.yaml",
                 "--config-patch-control-plane",
                 '[{"op": "add", "path": "/cluster/allowSchedulingOnControlPlanes", '
                 '"value": true}]',
                 "--config-patch-worker", "machine:\n  install:\n    disk: /dev/nvme0n1\n")
    assert r.returncode == 0, r.stderr
    cp, worker = load(tmp_path / "controlplane.yaml"), load(tmp_path / "worker.yaml")
    assert cp["machine"]["network"]["hostname"] == worker["machine"]["network"]["hostname"] \
        == "common"
    assert cp["cluster"]["allowSchedulingOnControlPlanes"] is True
    assert "allowSchedulingOnControlPlanes" not in worker["cluster"]
    assert worker["machine"]["install"]["disk"] == "/dev/nvme0n1"
    assert cp["machine"]["install"]["disk"] == "/dev/sda"


def test_a_patch_that_breaks_the_config_is_refused(talosctl: Run, tmp_path: Path) -> None:
    r = talosctl("gen", "config", "demo", ENDPOINT,
                 "--config-patch", "machine:\n  netwrok:\n    hostname: x\n")
    assert r.returncode == 1
    assert "machine.netwrok" in r.stderr
    assert not (tmp_path / "controlplane.yaml").exists()
    r = talosctl("gen", "config", "demo", ENDPOINT, "--config-patch", "@missing.yaml")
    assert r.returncode == 1 and "missing.yaml" in r.stderr


def test_talos_compatible_flags(talosctl: Run, tmp_path: Path) -> None:
    r = talosctl("gen", "config", "demo", ENDPOINT, "--with-docs=false",
                 "--with-examples=false", "--with-kubespan",
                 "--registry-mirror", "docker.io=http://10.5.0.1:5000")
    assert r.returncode == 0, r.stderr
    worker = load(tmp_path / "worker.yaml")
    assert worker["machine"]["network"]["kubespan"]["enabled"] is True
    assert worker["machine"]["registries"]["mirrors"]["docker.io"]["endpoints"] == [
        "http://10.5.0.1:5000"]
    # the validator refuses KubeSpan without discovery, before anything is written
    r = talosctl("gen", "config", "other", ENDPOINT, "-o", "o", "--with-kubespan",
                 "--with-cluster-discovery=false")
    assert r.returncode == 1 and "cluster.discovery.enabled" in r.stderr
    assert not (tmp_path / "o").exists()
    r = talosctl("gen", "config", "demo", ENDPOINT, "-o", "o", "--talos-version", "v1.7")
    assert r.returncode == 1 and "only the Talos v1.10 config layout" in r.stderr
