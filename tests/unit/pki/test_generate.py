"""Machine configs and talosconfig generated like `talosctl gen config` (Talos 1.10)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography import x509
from ruamel.yaml import YAML

from talos.machinery.config.generate import (
    GenerateOptions,
    generate,
    machine_config,
    talosconfig,
    validate_cluster_endpoint,
)
from talos.machinery.errors import FailedPrecondition, InvalidArgument
from talos.machinery.pki import organizations_of, verify_issued_by
from talos.machinery.secrets import SecretsBundle

from .test_secrets_bundle import upstream_bundle_yaml

OPTIONS = GenerateOptions(cluster_name="demo", endpoint="https://10.5.0.2:6443",
                          additional_sans=("1.2.3.4", "api.example.com"))


def parse(text: str) -> Any:
    return YAML(typ="safe").load(text)


def cert(b64: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(base64.b64decode(b64))


@pytest.fixture(scope="module")
def bundle() -> SecretsBundle:
    return SecretsBundle.generate()


def test_controlplane_has_talos_keys_defaults_and_secrets(bundle: SecretsBundle) -> None:
    doc = parse(machine_config(OPTIONS, bundle, "controlplane"))
    assert list(doc) == ["version", "debug", "persist", "machine", "cluster"]
    assert (doc["version"], doc["debug"], doc["persist"]) == ("v1alpha1", False, True)
    m, c = doc["machine"], doc["cluster"]
    assert m["type"] == "controlplane"
    assert m["token"] == bundle.trustd_token
    assert base64.b64decode(m["ca"]["crt"]) == bundle.os.crt
    assert base64.b64decode(m["ca"]["key"]) == bundle.os.key
    assert m["certSANs"] == ["1.2.3.4", "api.example.com"]
    assert m["kubelet"]["image"] == "ghcr.io/siderolabs/kubelet:v1.33.0"
    assert m["network"] == {}
    assert m["install"] == {"disk": "/dev/sda", "image": "ghcr.io/siderolabs/installer:v1.10.0",
                            "wipe": False}
    assert m["features"]["rbac"] is True
    assert m["nodeLabels"] == {"node.kubernetes.io/exclude-from-external-load-balancers": ""}
    assert (c["id"], c["secret"]) == (bundle.cluster_id, bundle.cluster_secret)
    assert c["controlPlane"] == {"endpoint": "https://10.5.0.2:6443"}
    assert c["clusterName"] == "demo"
    assert c["network"] == {"dnsDomain": "cluster.local", "podSubnets": ["10.244.0.0/16"],
                            "serviceSubnets": ["10.96.0.0/12"]}
    assert c["token"] == bundle.bootstrap_token
    assert c["secretboxEncryptionSecret"] == bundle.secretbox_encryption_secret
    for key in ("ca", "aggregatorCA"):
        assert set(c[key]) == {"crt", "key"}
    assert base64.b64decode(c["serviceAccount"]["key"]) == bundle.k8s_service_account_key
    assert c["apiServer"]["image"] == "registry.k8s.io/kube-apiserver:v1.33.0"
    assert c["apiServer"]["certSANs"] == ["10.5.0.2", "1.2.3.4", "api.example.com"]
    assert c["controllerManager"]["image"].endswith("kube-controller-manager:v1.33.0")
    assert c["proxy"]["image"].endswith("kube-proxy:v1.33.0")
    assert c["scheduler"]["image"].endswith("kube-scheduler:v1.33.0")
    assert c["discovery"]["enabled"] is True
    assert base64.b64decode(c["etcd"]["ca"]["crt"]) == bundle.etcd.crt
    assert organizations_of(cert(c["etcd"]["ca"]["crt"])) == ["etcd"]


def test_worker_carries_certificates_without_private_keys(bundle: SecretsBundle) -> None:
    text = machine_config(OPTIONS, bundle, "worker")
    doc = parse(text)
    m, c = doc["machine"], doc["cluster"]
    assert m["type"] == "worker"
    assert m["ca"]["key"] == "" and c["ca"]["key"] == ""
    assert 'key: ""' in text
    assert "nodeLabels" not in m
    for secret_field in ("aggregatorCA", "serviceAccount", "etcd", "secretboxEncryptionSecret"):
        assert secret_field not in c
    private = [bundle.os.key, bundle.k8s.key, bundle.etcd.key, bundle.k8s_aggregator.key]
    assert not any(base64.b64encode(k).decode() in text for k in private)


def test_options_change_the_output(bundle: SecretsBundle) -> None:
    options = GenerateOptions(cluster_name="c2", endpoint="https://lb.example.com:443",
                              kubernetes_version="v1.32.3", install_disk="/dev/vda",
                              dns_domain="corp.internal")
    doc = parse(machine_config(options, bundle, "controlplane"))
    assert doc["machine"]["install"]["disk"] == "/dev/vda"
    assert doc["machine"]["kubelet"]["image"].endswith(":v1.32.3")
    assert doc["cluster"]["network"]["dnsDomain"] == "corp.internal"
    assert doc["cluster"]["apiServer"]["certSANs"] == ["lb.example.com"]


def test_talosconfig_admin_certificate_is_ecdsa_signed_by_os_ca(bundle: SecretsBundle) -> None:
    tc = talosconfig(OPTIONS, bundle)
    assert tc.context == "demo"
    ctx = tc.get()
    assert ctx.endpoints == ()
    assert ctx.ca_pem == bundle.os.crt
    client = ctx.client.certificate
    verify_issued_by(client, bundle.os.certificate)
    assert organizations_of(client) == ["os:admin"]
    ctx.client.check(path="talosconfig")


def test_generate_all_shares_one_bundle() -> None:
    out = generate(OPTIONS)
    cp, worker = parse(out.controlplane), parse(out.worker)
    assert cp["cluster"]["id"] == worker["cluster"]["id"] == out.secrets.cluster_id
    assert cp["machine"]["token"] == worker["machine"]["token"]


def test_upstream_ed25519_bundle_generates_configs_but_not_a_talosconfig() -> None:
    upstream = SecretsBundle.from_yaml(upstream_bundle_yaml())
    assert parse(machine_config(OPTIONS, upstream, "controlplane"))["machine"]["token"]
    with pytest.raises(FailedPrecondition, match="uses Ed25519, which gRPC cannot serve"):
        talosconfig(OPTIONS, upstream)


@pytest.mark.parametrize(("endpoint", "message"), [
    ("10.5.0.2", 'no scheme and port specified for the cluster endpoint URL\n'
                 'try: "https://10.5.0.2:6443"'),
    ("10.5.0.2:6443", 'no scheme specified for the cluster endpoint URL\n'
                      'try: "https://10.5.0.2:6443"'),
    ("http://10.5.0.2:6443", "the control plane endpoint URL should have scheme https://"),
    ("https://:6443", "has no host"),
    ("", "cluster endpoint is required"),
])
def test_bad_endpoints_are_explained(endpoint: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        validate_cluster_endpoint(endpoint)
    assert message in str(e.value)


@pytest.mark.parametrize(("changes", "message"), [
    ({"kubernetes_version": "latest"}, "--kubernetes-version: invalid version 'latest'"),
    ({"dns_domain": "Bad_Domain"}, "--dns-domain: 'Bad_Domain' is not a valid DNS domain"),
    ({"additional_sans": ("a b",)}, "--additional-sans: 'a b'"),
    ({"cluster_name": "no spaces"}, "invalid cluster name 'no spaces'"),
])
def test_bad_options_name_the_flag(changes: dict[str, Any], message: str) -> None:
    options = GenerateOptions(**{"cluster_name": "demo", "endpoint": "https://1.2.3.4:6443",
                                 **changes})
    with pytest.raises(InvalidArgument) as e:
        options.validate()
    assert message in str(e.value)


@pytest.mark.parametrize("mode", ["metal", "cloud", "container"])
def test_generated_configs_validate_and_round_trip(bundle: SecretsBundle, mode: str) -> None:
    from talos.machinery.config import load_config

    for machine_type in ("controlplane", "worker"):
        text = machine_config(OPTIONS, bundle, machine_type)
        cfg = load_config(text, source=f"{machine_type}.yaml")
        cfg.validate(mode)
        assert cfg.dump() == text


def test_kubespan_and_registry_mirrors(bundle: SecretsBundle) -> None:
    options = GenerateOptions(cluster_name="demo", endpoint="https://10.5.0.2:6443",
                              kubespan=True, registry_mirrors=(
                                  ("docker.io", "http://10.5.0.1:5000"),
                                  ("docker.io", "https://mirror.example.com")))
    for machine_type in ("controlplane", "worker"):
        doc = parse(machine_config(options, bundle, machine_type))
        m = doc["machine"]
        assert m["network"] == {"kubespan": {"enabled": True}}
        assert m["registries"] == {"mirrors": {"docker.io": {"endpoints": [
            "http://10.5.0.1:5000", "https://mirror.example.com"]}}}
        assert list(m).index("registries") == list(m).index("install") + 1
        assert doc["cluster"]["discovery"]["enabled"] is True
    off = GenerateOptions(cluster_name="demo", endpoint="https://10.5.0.2:6443",
                          discovery=False)
    assert parse(machine_config(off, bundle, "worker"))["cluster"]["discovery"]["enabled"] \
        is False
    with pytest.raises(InvalidArgument, match="--registry-mirror: invalid registry mirror"):
        GenerateOptions(cluster_name="d", endpoint="https://1.2.3.4:6443",
                        registry_mirrors=(("docker.io", "not a url"),)).validate()
