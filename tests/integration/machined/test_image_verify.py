"""ImageService.Verify over a sandbox node's API socket: the machine config's
ImageVerificationConfig rules decide, answered as upstream v1.13.9 answers (issue 18)."""

from __future__ import annotations

import grpc
import pytest

from talos.api.machine import image_pb2, image_pb2_grpc
from talos.api.machine import machine_pb2 as m

from .node import running_node

pytestmark = [pytest.mark.root, pytest.mark.requires("unshare", "containerd")]

RULES = b"""---
apiVersion: v1alpha1
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
"""


async def test_verify_answers_by_the_configured_rules(tmp_path):
    async with running_node(tmp_path / "n", hostname="verify-node") as node:
        images = image_pb2_grpc.ImageServiceStub(node.channel)

        def verify(ref: str):
            return images.Verify(image_pb2.ImageServiceVerifyRequest(image_ref=ref))

        # no rules configured: allowed, not verified
        resp = await verify("registry.k8s.io/etcd:v3.6.5")
        assert (resp.verified, resp.message) == (False, "no matched rule")

        base = node.config.replace(b"cluster:\n", b"cluster:\n  controlPlane:\n"
                                                   b"    endpoint: https://127.0.0.1:6443\n")
        await node.api.ApplyConfiguration(m.ApplyConfigurationRequest(
            data=base + RULES, mode=m.ApplyConfigurationRequest.NO_REBOOT))

        resp = await verify("do.not.verify/myimage:latest")
        assert (resp.verified, resp.message) == (
            False, "verification skipped by matched rule (0000)")
        resp = await verify("ghcr.io/siderolabs/talos:v1.13.9")
        assert (resp.verified, resp.message) == (False, "no matched rule")

        with pytest.raises(grpc.aio.AioRpcError) as err:
            await verify("localhost:4444/myimage:latest")
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert err.value.details() == "verification denied by matched rule (0002)"

        # a signature check cannot be done here: refused, never claimed verified
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await verify("registry.k8s.io/etcd:v3.6.5")
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "rule 0001" in (err.value.details() or "")
        assert "no sigstore client" in (err.value.details() or "")

        with pytest.raises(grpc.aio.AioRpcError) as err:
            await verify("Not A Reference")
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert err.value.details() == ("image reference is invalid: could not parse "
                                       "reference: Not A Reference")
