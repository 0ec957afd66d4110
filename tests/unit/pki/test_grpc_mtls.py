"""Certificates from our PKI complete a real mTLS gRPC call on loopback (ECDSA P-256)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from cryptography import x509

from talos.machinery import role
from talos.machinery.pki import organizations_of
from talos.machinery.secrets import SecretsBundle

METHOD = "/test.Echo/Roles"


def _identity(b: bytes) -> bytes:
    return b


async def _roles(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    auth = context.auth_context()
    pem = auth["x509_pem_cert"][0]
    roles = organizations_of(x509.load_pem_x509_certificate(pem))
    return (request.decode() + ":" + ",".join(roles)).encode()


@pytest.fixture
async def served(tmp_path: object) -> AsyncIterator[tuple[SecretsBundle, int]]:
    bundle = SecretsBundle.generate()
    server_pair = bundle.server_certificate(("localhost", "127.0.0.1"))
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler("test.Echo", {
        "Roles": grpc.unary_unary_rpc_method_handler(
            _roles, request_deserializer=_identity, response_serializer=_identity)})
    server.add_generic_rpc_handlers((handler,))
    creds = grpc.ssl_server_credentials([(server_pair.key, server_pair.crt)],
                                        root_certificates=bundle.os.crt,
                                        require_client_auth=True)
    port = server.add_secure_port("127.0.0.1:0", creds)
    await server.start()
    try:
        yield bundle, port
    finally:
        await server.stop(None)


async def test_mtls_call_with_generated_client_certificate_carries_roles(
        served: tuple[SecretsBundle, int]) -> None:
    bundle, port = served
    client = bundle.client_certificate((role.READER,))
    creds = grpc.ssl_channel_credentials(root_certificates=bundle.os.crt,
                                         private_key=client.key, certificate_chain=client.crt)
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", creds) as channel:
        call = channel.unary_unary(METHOD, request_serializer=_identity,
                                   response_deserializer=_identity)
        assert await call(b"hello", timeout=10) == b"hello:os:reader"


async def test_client_certificate_from_another_ca_fails_the_handshake(
        served: tuple[SecretsBundle, int]) -> None:
    bundle, port = served
    stranger = SecretsBundle.generate().client_certificate()
    creds = grpc.ssl_channel_credentials(root_certificates=bundle.os.crt,
                                         private_key=stranger.key,
                                         certificate_chain=stranger.crt)
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", creds) as channel:
        call = channel.unary_unary(METHOD, request_serializer=_identity,
                                   response_deserializer=_identity)
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call(b"hello", timeout=10)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
