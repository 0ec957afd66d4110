"""Readers see the machine config with every secret redacted."""

from __future__ import annotations

from talos.apid import cosi_filter
from talos.machinery.config.redact import REDACTED, redact_yaml

SECRETS = ["abcdef.0123456789abcdef", "Q0FLRVk=", "c2VjcmV0", "YWVz", "d2dwcml2",
           "hunter2", "U0FLRVk=", "RVRDREtFWQ==", "mystery-secret"]

CONFIG = f"""version: v1alpha1
machine:
    type: controlplane
    token: {SECRETS[0]}
    ca:
        crt: Q0VSVA==
        key: {SECRETS[1]}
    network:
        interfaces:
            - interface: wg0
              wireguard:
                  privateKey: {SECRETS[4]}
    registries:
        config:
            registry.example.com:
                auth:
                    username: me
                    password: {SECRETS[5]}
cluster:
    clusterName: demo
    secret: {SECRETS[2]}
    aescbcEncryptionSecret: {SECRETS[3]}
    serviceAccount:
        key: {SECRETS[6]}
    etcd:
        ca:
            crt: Q0VSVA==
            key: {SECRETS[7]}
---
apiVersion: v1alpha1
kind: SomethingNew
privateKey: {SECRETS[8]}
"""


def test_every_secret_is_redacted_and_the_rest_kept() -> None:
    out = redact_yaml(CONFIG)
    for secret in SECRETS:
        assert secret not in out
    assert out.count(REDACTED) == len(SECRETS)
    assert "clusterName: demo" in out and "username: me" in out and "Q0VSVA==" in out


def test_apid_replaces_secrets_with_the_same_marker() -> None:
    assert cosi_filter.REDACTED == REDACTED


def test_unparseable_config_shows_nothing() -> None:
    assert redact_yaml("machine: [unclosed\n  token: x") == REDACTED


def test_a_redacted_config_resource_carries_the_redacted_document_in_proto_spec() -> None:
    from talos.api.resource.config import config_pb2
    from talos.api.v1alpha1 import resource_pb2, state_pb2
    from talos.apid.cosi_filter import redact_response

    res = resource_pb2.Resource(
        metadata=resource_pb2.Metadata(namespace="config", type="MachineConfigs.config.talos.dev",
                                       id="v1alpha1"),
        spec=resource_pb2.Spec(yaml_spec=CONFIG, proto_spec=config_pb2.MachineConfigSpec(
            yaml_marshalled=CONFIG.encode()).SerializeToString()))
    reply = state_pb2.GetResponse(resource=res).SerializeToString()
    out = state_pb2.GetResponse.FromString(redact_response("/cosi.resource.State/Get", reply))
    decoded = config_pb2.MachineConfigSpec.FromString(out.resource.spec.proto_spec)
    assert decoded.yaml_marshalled.decode() == out.resource.spec.yaml_spec
    for secret in SECRETS:
        assert secret not in out.resource.spec.yaml_spec
        assert secret.encode() not in out.resource.spec.proto_spec
