"""machine.DebugService through a real apid and machined: served (not gRPC's "Method not
found"), the first message checked as upstream's, then refused naming why it is not done on
this node yet."""

from __future__ import annotations

import grpc
import pytest

from talos.api.machine import debug_pb2, debug_pb2_grpc
from tests.e2e.talosctl.conftest import HOSTS, E2ECluster

pytestmark = pytest.mark.e2e


def _run(e2e: E2ECluster, *requests: debug_pb2.DebugContainerRunRequest) -> grpc.RpcError:
    client = e2e.pki.client("os:admin")
    creds = grpc.ssl_channel_credentials(e2e.pki.ca_pem, client.key, client.crt)
    with grpc.secure_channel(e2e.endpoint(), creds) as ch:
        stub = debug_pb2_grpc.DebugServiceStub(ch)
        with pytest.raises(grpc.RpcError) as err:
            for _ in stub.ContainerRun(iter(requests), metadata=(("node", HOSTS[1]),),
                                       timeout=30):
                pass
        return err.value


def test_debug_container_run_is_served_and_says_why_it_is_not_done(e2e: E2ECluster) -> None:
    spec = debug_pb2.DebugContainerRunRequestSpec(image_name="docker.io/library/alpine:3",
                                                  args=["sh"], tty=True)
    err = _run(e2e, debug_pb2.DebugContainerRunRequest(spec=spec))
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED, err
    assert "ContainerRun is not implemented on this node yet" in (err.details() or "")
    assert "containerd task I/O" in (err.details() or "")
    err = _run(e2e, debug_pb2.DebugContainerRunRequest(stdin_data=b"ls\n"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err
    assert "must be the container spec" in (err.details() or "")
