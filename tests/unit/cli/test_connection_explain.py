"""RPC failures explained by the client: a maintenance-mode node behind an endpoint (apid
could not verify its self-signed certificate) is named as such, with how to reach it."""

from __future__ import annotations

import grpc

from talos.machinery.client.connection import explain
from talos.machinery.client.hints import maintenance_node_error

SELF_SIGNED = ("node '10.5.0.9' is unavailable: failed to connect to all addresses; last "
               "error: UNKNOWN: ipv4:10.5.0.9:50000: Ssl handshake failed: SSL_ERROR_SSL: "
               "error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: self "
               "signed certificate: OK")


class _Failed(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


def test_proxied_self_signed_node_is_in_maintenance_mode() -> None:
    err = explain(_Failed(grpc.StatusCode.UNAVAILABLE, SELF_SIGNED), "10.5.0.2:50000")
    assert str(err).startswith("node 10.5.0.9 is in maintenance mode"), err
    assert "--insecure -n 10.5.0.9" in str(err)
    assert "CERTIFICATE_VERIFY_FAILED" not in str(err)


def test_other_failures_are_not_called_maintenance_mode() -> None:
    assert maintenance_node_error("10.5.0.9", "connection refused") == ""
    err = explain(_Failed(grpc.StatusCode.UNAVAILABLE, "node '10.5.0.9' is unavailable: "
                          "connection refused"), "10.5.0.2:50000")
    assert "maintenance" not in str(err)
    # with --insecure the caller already talks to a maintenance node directly
    err = explain(_Failed(grpc.StatusCode.UNAVAILABLE, SELF_SIGNED), "10.5.0.2:50000",
                  insecure=True)
    assert "is in maintenance mode (it has no config" not in str(err)
