"""ImageService.Verify's rule matching, as upstream v1.13.9 (verify.ImageSignature with
go-containerregistry reference parsing and ryanuber/go-glob patterns)."""

from __future__ import annotations

import pytest

from talos.api.machine import image_pb2
from talos.machined.server.image_verify import check_pull, glob, reference_context, verify
from talos.machinery.config import load_config
from talos.machinery.errors import FailedPrecondition, InvalidArgument, PermissionDenied

RULES = load_config(b"""apiVersion: v1alpha1
kind: ImageVerificationConfig
rules:
  - image: do.not.verify/*
    skip: true
  - image: registry.k8s.io/*
    keyless:
      issuer: https://accounts.google.com
      subject: krel-trust@k8s-releng-prod.iam.gserviceaccount.com
  - image: localhost:4444/*
    deny: true
  - image: index.docker.io/library/*
    publicKey:
      certificate: x
""")


def _verify(ref: str, config: object = RULES) -> image_pb2.ImageServiceVerifyResponse:
    return verify(config, image_pb2.ImageServiceVerifyRequest(image_ref=ref))


@pytest.mark.parametrize(("ref", "context"), [
    ("nginx", "index.docker.io/library/nginx"),
    ("docker.io/library/nginx:1.27", "index.docker.io/library/nginx"),
    ("bitnami/redis", "index.docker.io/bitnami/redis"),
    ("localhost/app", "index.docker.io/localhost/app"),  # no '.' or ':': not a registry
    ("localhost:5000/app:v1", "localhost:5000/app"),
    ("ghcr.io/o/app:v1@sha256:" + "a" * 64, "ghcr.io/o/app"),
])
def test_reference_context_normalises_like_go_containerregistry(ref: str, context: str) -> None:
    assert reference_context(ref) == context


@pytest.mark.parametrize("ref", ["", "Nginx", "a", "app:", "ghcr.io/o/app@sha256:abc",
                                 "a@b@c"])
def test_invalid_reference_is_invalid_argument(ref: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        _verify(ref)
    assert str(e.value) == f"image reference is invalid: could not parse reference: {ref}"


def test_glob_star_spans_slashes_and_nothing_else_is_special() -> None:
    assert glob("registry.k8s.io/*", "registry.k8s.io/etcd/x")
    assert glob("*/etcd", "registry.k8s.io/etcd")
    assert glob("reg*k8s*/etcd", "registry.k8s.io/etcd")
    assert not glob("registry.k8s.io/*", "ghcr.io/registry.k8s.io/x")
    assert not glob("registry.k8s.io/?tcd", "registry.k8s.io/etcd")
    assert glob("*", "")


def test_no_rules_and_no_match_allow_unverified() -> None:
    for config in (None, load_config(b"version: v1alpha1\n"), RULES):
        resp = _verify("ghcr.io/o/app:v1", config)
        assert (resp.verified, resp.message, resp.digested_image_ref) == (
            False, "no matched rule", "")


def test_first_matching_rule_decides_with_upstream_ids_and_messages() -> None:
    resp = _verify("do.not.verify/myimage:latest")
    assert (resp.verified, resp.message) == (False, "verification skipped by matched rule (0000)")
    with pytest.raises(PermissionDenied) as denied:
        _verify("localhost:4444/myimage:latest")
    assert str(denied.value) == "verification denied by matched rule (0002)"


@pytest.mark.parametrize(("ref", "rule"), [("registry.k8s.io/etcd:3.6.0", "0001 "),
                                           ("nginx", "0003 ")])
def test_signature_rules_are_refused_not_faked(ref: str, rule: str) -> None:
    with pytest.raises(FailedPrecondition, match="no sigstore client") as e:
        _verify(ref)
    assert f"rule {rule}" in str(e.value)


def test_a_pull_goes_on_only_where_no_rule_or_a_skip_rule_matches() -> None:
    check_pull(RULES, "do.not.verify/app:v1")  # skip
    check_pull(RULES, "ghcr.io/siderolabs/talos:v1.13.9")  # no rule
    with pytest.raises(PermissionDenied, match=r"denied by matched rule \(0002\)"):
        check_pull(RULES, "localhost:4444/app:v1")
    # a signature the node cannot check: not pulled unchecked
    with pytest.raises(FailedPrecondition, match="rule 0001"):
        check_pull(RULES, "registry.k8s.io/etcd:v3.6.5")


def test_a_pull_with_no_rules_is_not_parsed_here() -> None:
    check_pull(None, "Not A Reference")  # the pull itself reports it
    with pytest.raises(InvalidArgument):
        check_pull(RULES, "Not A Reference")
