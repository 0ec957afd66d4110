"""Readers see the machine config with every secret redacted."""

from __future__ import annotations

from talos.apid.cosi_filter import REDACTED, redact_yaml

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


def test_unparseable_config_shows_nothing() -> None:
    assert redact_yaml("machine: [unclosed\n  token: x") == REDACTED
