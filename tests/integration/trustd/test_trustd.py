"""trustd over real TLS: token check, rate limit, signed certificates."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from talos.api.security import security_pb2, security_pb2_grpc
from talos.machinery.pki import (
    CertificateAuthority,
    IssueOptions,
    generate_token,
    new_csr,
    new_private_key,
    organizations_of,
    verify_issued_by,
)
from talos.trustd.ratelimit import FailureLimiter
from talos.trustd.server import TrustdServer, TrustdSettings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Trustd:
    ca: CertificateAuthority
    token: str
    clock: FakeClock
    channel: grpc.aio.Channel
    port: int

    def stub(self) -> security_pb2_grpc.SecurityServiceStub:
        return security_pb2_grpc.SecurityServiceStub(self.channel)


@pytest.fixture
async def trustd() -> AsyncIterator[Trustd]:
    ca = CertificateAuthority.generate(organization="talos")
    serving = ca.issue_key_pair(IssueOptions(
        ip_addresses=(ipaddress.ip_address("127.0.0.3"),), server=True, client=False))
    clock = FakeClock()
    token = generate_token()
    server = TrustdServer(TrustdSettings(ca, serving, token, listen="127.0.0.3:0",
                                         limiter=FailureLimiter(clock=clock)))
    port = await server.start()
    creds = grpc.ssl_channel_credentials(root_certificates=ca.to_pem().crt)
    channel = grpc.aio.secure_channel(f"127.0.0.3:{port}", creds)
    try:
        yield Trustd(ca, token, clock, channel, port)
    finally:
        await channel.close()
        await server.stop(0)


def _csr(*orgs: str) -> tuple[bytes, object]:
    key = new_private_key()
    csr = new_csr(key, common_name="worker-1", organizations=orgs,
                  ip_addresses=[ipaddress.ip_address("10.5.0.3")])
    return csr.public_bytes(serialization.Encoding.PEM), key


async def test_csr_with_the_trust_token_is_signed_by_the_os_ca(trustd: Trustd) -> None:
    pem, _ = _csr("os:impersonator")
    reply = await trustd.stub().Certificate(security_pb2.CertificateRequest(csr=pem),
                                            metadata=(("token", trustd.token),))
    cert = x509.load_pem_x509_certificate(reply.crt)
    verify_issued_by(cert, trustd.ca.cert)
    assert reply.ca == trustd.ca.to_pem().crt
    assert organizations_of(cert) == ["os:impersonator"]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.5.0.3")]


@pytest.mark.parametrize("metadata", [(), (("token", "wrong0.0000000000000000"),),
                                      (("token", ""),)])
async def test_wrong_or_missing_token_is_unauthenticated(trustd: Trustd, metadata) -> None:  # type: ignore[no-untyped-def]
    pem, _ = _csr("os:impersonator")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await trustd.stub().Certificate(security_pb2.CertificateRequest(csr=pem),
                                        metadata=metadata)
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_token_holder_cannot_mint_admin_certificates(trustd: Trustd) -> None:
    pem, _ = _csr("os:admin")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await trustd.stub().Certificate(security_pb2.CertificateRequest(csr=pem),
                                        metadata=(("token", trustd.token),))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "os:admin" in (e.value.details() or "")


async def test_garbage_csr_is_invalid_argument(trustd: Trustd) -> None:
    for csr in (b"", b"not a csr"):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await trustd.stub().Certificate(security_pb2.CertificateRequest(csr=csr),
                                            metadata=(("token", trustd.token),))
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "csr" in (e.value.details() or "")


async def test_five_failures_lock_the_peer_out_for_a_minute(trustd: Trustd) -> None:
    pem, _ = _csr("os:impersonator")
    stub = trustd.stub()
    req = security_pb2.CertificateRequest(csr=pem)
    for _ in range(5):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await stub.Certificate(req, metadata=(("token", "bad"),))
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # even the right token is refused now
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Certificate(req, metadata=(("token", trustd.token),))
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "retry in" in (e.value.details() or "")
    trustd.clock.now += 59
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.Certificate(req, metadata=(("token", trustd.token),))
    trustd.clock.now += 2
    reply = await stub.Certificate(req, metadata=(("token", trustd.token),))
    assert reply.crt


async def test_failures_spread_over_more_than_a_minute_do_not_lock(trustd: Trustd) -> None:
    pem, _ = _csr("os:impersonator")
    stub = trustd.stub()
    req = security_pb2.CertificateRequest(csr=pem)
    for _ in range(8):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await stub.Certificate(req, metadata=(("token", "bad"),))
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
        trustd.clock.now += 20
    assert (await stub.Certificate(req, metadata=(("token", trustd.token),))).crt


def test_limiter_is_per_peer() -> None:
    clock = FakeClock()
    lim = FailureLimiter(clock=clock)
    for _ in range(5):
        lim.failed("10.0.0.1")
    assert lim.retry_after("10.0.0.1") == 60
    assert lim.retry_after("10.0.0.2") == 0
    clock.now += 60
    assert lim.retry_after("10.0.0.1") == 0



async def test_worker_client_obtains_its_apid_certificate(trustd: Trustd) -> None:
    from talos.machinery.client.connection import request_certificate
    from talos.machinery.errors import Unauthenticated
    pem, _ = _csr("os:impersonator")
    host, port = "127.0.0.3", trustd.port
    ca, crt = await request_certificate(host, token=trustd.token, csr_pem=pem,
                                        ca_pem=trustd.ca.to_pem().crt, port=port)
    verify_issued_by(x509.load_pem_x509_certificate(crt), trustd.ca.cert)
    assert ca == trustd.ca.to_pem().crt
    with pytest.raises(Unauthenticated):
        await request_certificate(host, token="nope", csr_pem=pem,
                                  ca_pem=trustd.ca.to_pem().crt, port=port)
