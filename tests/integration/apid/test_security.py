"""apid's door: mTLS with the OS CA, TLS 1.3, roles, secrets, malformed input."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import ssl
import tempfile
from pathlib import Path

import grpc
import pytest

from talos.api.machine import machine_pb2, machine_pb2_grpc
from talos.api.v1alpha1 import state_pb2, state_pb2_grpc
from talos.apid.authz import RULES
from talos.apid.cosi_filter import REDACTED
from talos.apid.methods import known_methods
from talos.machinery.pki import CertificateAndKey, CertificateAuthority, IssueOptions
from tests.integration.apid.harness import Cluster, Pki, new_pki
from tests.upstream_roles import UPSTREAM_ROLES, expected_roles

ROLES = [*sorted(UPSTREAM_ROLES), "not-a-role"]


def _h2_client_context(pki: Pki, client: CertificateAndKey) -> ssl.SSLContext:
    """A client TLS context trusting the OS CA, presenting `client`, offering h2 (blocking:
    call it in a thread)."""
    with tempfile.TemporaryDirectory() as tmp:
        crt, key = Path(tmp, "c.pem"), Path(tmp, "k.pem")
        crt.write_bytes(client.crt)
        key.write_bytes(client.key)
        ctx = ssl.create_default_context(cadata=pki.ca_pem.decode())
        ctx.load_cert_chain(str(crt), str(key))
    ctx.set_alpn_protocols(["h2"])
    return ctx


async def test_tls13_is_negotiated_with_a_valid_client_cert(one: Cluster, pki: Pki) -> None:
    client = pki.client("os:reader")

    def handshake() -> tuple[str | None, str | None]:
        ctx = _h2_client_context(pki, client)
        with socket.create_connection(("127.0.0.2", one.port)) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.2") as tls:
            return tls.version(), tls.selected_alpn_protocol()
    version, alpn = await asyncio.to_thread(handshake)
    assert version == "TLSv1.3"
    assert alpn == "h2"


async def test_version_through_apid_reaches_machined(one: Cluster) -> None:
    stub = machine_pb2_grpc.MachineServiceStub(one.channel("os:reader"))
    reply = await stub.Version(_empty())
    assert reply.messages[0].version.sha == "127.0.0.2"


def _empty():  # type: ignore[no-untyped-def]
    from google.protobuf import empty_pb2
    return empty_pb2.Empty()


async def test_client_from_another_ca_is_rejected(one: Cluster) -> None:
    other = new_pki()
    ch = one.channel(client=other.client("os:admin"))
    stub = machine_pb2_grpc.MachineServiceStub(ch)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Version(_empty(), timeout=10)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    assert one.nodes["127.0.0.2"].backend.seen == {}


async def test_expired_client_certificate_is_rejected(one: Cluster, pki: Pki) -> None:
    expired = pki.ca.issue_key_pair(
        IssueOptions(organizations=("os:admin",), ttl=dt.timedelta(hours=1)),
        now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    stub = machine_pb2_grpc.MachineServiceStub(one.channel(client=expired))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Version(_empty(), timeout=10)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    assert one.nodes["127.0.0.2"].backend.seen == {}


async def test_client_without_certificate_is_rejected(one: Cluster, pki: Pki) -> None:
    creds = grpc.ssl_channel_credentials(root_certificates=pki.ca_pem)
    async with grpc.aio.secure_channel(f"127.0.0.2:{one.port}", creds) as ch:
        stub = machine_pb2_grpc.MachineServiceStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await stub.Version(_empty(), timeout=10)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_role_matrix_for_every_declared_rpc(one: Cluster) -> None:
    """Each role calls every declared method: allowed by upstream Talos's table (with the
    differences tests/upstream_roles.py lists) -> served, otherwise PERMISSION_DENIED."""
    methods = known_methods()
    assert set(RULES) <= set(methods), set(RULES) - set(methods)
    backend = one.nodes["127.0.0.2"].backend
    for role in ROLES:
        ch = one.channel(role)
        for path, info in methods.items():
            backend.seen.pop(path, None)
            allowed = role in expected_roles(path)
            request = b""
            if path in ("/cosi.resource.State/Get", "/cosi.resource.State/List",
                        "/cosi.resource.State/Watch"):
                request = state_pb2.GetRequest(namespace="network",
                                               type="Links.net.talos.dev").SerializeToString()
            code = await _call(ch, path, info.client_streaming, info.server_streaming, request)
            expected = grpc.StatusCode.OK if allowed else grpc.StatusCode.PERMISSION_DENIED
            assert code == expected, f"{role} {path}: {code} (expected {expected})"
            assert (path in backend.seen) == allowed, f"{role} {path} reached the backend"


async def _call(ch: grpc.aio.Channel, path: str, cs: bool, ss: bool,
                request: bytes) -> grpc.StatusCode:
    try:
        if not cs and not ss:
            await ch.unary_unary(path)(request, timeout=10)
        elif not cs:
            call = ch.unary_stream(path)(request, timeout=10)
            async for _ in call:
                break  # one message is enough (some streams follow forever)
            call.cancel()
        else:
            async def reqs():  # type: ignore[no-untyped-def]
                yield request
            await ch.stream_unary(path)(reqs(), timeout=10)
    except grpc.aio.AioRpcError as e:
        return e.code()
    return grpc.StatusCode.OK


async def test_method_missing_from_the_table_is_admin_only(one: Cluster) -> None:
    path = "/machine.MachineService/NotDeclaredAnywhere"
    code = await _call(one.channel("os:operator"), path, True, True, b"")
    assert code == grpc.StatusCode.PERMISSION_DENIED
    # admin passes authorization and gets the backend's answer
    code = await _call(one.channel("os:admin"), path, True, True, b"")
    assert code == grpc.StatusCode.OK


async def test_reader_cannot_apply_config(one: Cluster) -> None:
    stub = machine_pb2_grpc.MachineServiceStub(one.channel("os:reader"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.ApplyConfiguration(machine_pb2.ApplyConfigurationRequest(data=b"x"))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "os:admin" in (e.value.details() or "")
    assert "/machine.MachineService/ApplyConfiguration" not in \
        one.nodes["127.0.0.2"].backend.seen


@pytest.mark.parametrize("role", ["os:reader", "os:operator"])
async def test_non_admin_cannot_read_secrets(one: Cluster, role: str) -> None:
    stub = state_pb2_grpc.StateStub(one.channel(role))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Get(state_pb2.GetRequest(namespace="secrets", type="OSRootSecrets."
                                            "secrets.talos.dev", id="os"))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "secrets" in (e.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        async for _ in stub.List(state_pb2.ListRequest(namespace="secrets", type="X")):
            pass
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_reader_sees_machine_config_redacted(one: Cluster) -> None:
    req = state_pb2.GetRequest(namespace="config", type="MachineConfigs.config.talos.dev",
                               id="v1alpha1")
    reader = await state_pb2_grpc.StateStub(one.channel("os:reader")).Get(req)
    text = reader.resource.spec.yaml_spec
    assert "abcdef.0123456789abcdef" not in text and "c2VjcmV0" not in text
    assert "S0VZ" not in text and text.count(REDACTED) == 3
    assert "clusterName: demo" in text and "Q0VSVA==" in text
    admin = await state_pb2_grpc.StateStub(one.channel("os:admin")).Get(req)
    assert "abcdef.0123456789abcdef" in admin.resource.spec.yaml_spec


async def test_roles_cannot_be_forged_in_metadata(one: Cluster) -> None:
    """A reader sending `talos-role: os:admin` is still a reader."""
    stub = machine_pb2_grpc.MachineServiceStub(one.channel("os:reader"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Reboot(machine_pb2.RebootRequest(),
                          metadata=(("talos-role", "os:admin"),))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    await stub.Version(_empty(), metadata=(("talos-role", "os:admin"),))
    seen = one.nodes["127.0.0.2"].backend.seen["/machine.MachineService/Version"]
    assert seen["talos-role"] == ["os:reader"]


async def test_impersonator_without_roles_metadata_has_no_rights(one: Cluster) -> None:
    stub = machine_pb2_grpc.MachineServiceStub(one.channel("os:impersonator"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Version(_empty())
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("metadata", [
    (("nodes", ""),),
    (("nodes", "127.0.0.3,,127.0.0.4"),),
    (("nodes", "127.0.0.3, 127.0.0.4"),),
    (("nodes", "bad name"),),
    (("node", ""),),
    (("node", "a b"),),
    (("nodes", ",".join(f"10.0.{i // 250}.{i % 250}" for i in range(1000))),),
    (("nodes", "127.0.0.3"), ("node", "127.0.0.4")),
    (("nodes", "127.0.0.3,127.0.0.3"),),
    (("nodes", "x" * 300),),
])
async def test_malformed_routing_metadata_is_invalid_argument(one: Cluster, metadata) -> None:  # type: ignore[no-untyped-def]
    stub = machine_pb2_grpc.MachineServiceStub(one.channel("os:admin"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Version(_empty(), metadata=metadata, timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, e.value.details()
    assert "metadata" in (e.value.details() or "")
    # and the server still serves
    assert (await stub.Version(_empty())).messages[0].version.sha == "127.0.0.2"


async def test_garbage_and_idle_connections_do_not_stop_other_clients(one: Cluster) -> None:
    socks: list[socket.socket] = []
    try:
        for i in range(500):
            s = socket.create_connection(("127.0.0.2", one.port))
            socks.append(s)
            if i % 5 == 0:
                s.sendall(b"\x16\x03\x01\x02\x00garbage" + bytes(range(256)) * 4)
        stub = machine_pb2_grpc.MachineServiceStub(one.channel("os:reader"))
        for _ in range(3):
            reply = await stub.Version(_empty(), timeout=30)
            assert reply.messages[0].version.sha == "127.0.0.2"
    finally:
        for s in socks:
            s.close()


async def test_ed25519_os_ca_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    from talos.apid.server import ApidServer, ApidSettings
    from talos.machinery.errors import FailedPrecondition
    ca = CertificateAuthority.generate(algorithm="ed25519")
    cert = ca.issue_key_pair(IssueOptions(organizations=("os:impersonator",), server=True))
    with pytest.raises(FailedPrecondition, match="Ed25519"):
        ApidServer(ApidSettings(ca.to_pem().crt, cert.crt, cert.key,
                                backend_socket=str(tmp_path / "s")))


async def test_garbage_inside_an_authenticated_connection_is_contained(one: Cluster,
                                                                       pki: Pki) -> None:
    client = pki.client("os:admin")

    def junk() -> None:
        ctx = _h2_client_context(pki, client)
        with socket.create_connection(("127.0.0.2", one.port)) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.2") as tls:
            tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 4096)
            with contextlib.suppress(OSError):
                tls.recv(1024)
    await asyncio.to_thread(junk)
    ch = one.channel("os:reader")
    # undecodable request bytes for a method apid must inspect
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await ch.unary_unary("/cosi.resource.State/Get")(b"\xff\xff\xff", timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    stub = machine_pb2_grpc.MachineServiceStub(ch)
    assert (await stub.Version(_empty(), timeout=30)).messages[0].version.sha == "127.0.0.2"


async def test_apid_certificate_must_be_an_impersonator(tmp_path: Path, pki: Pki) -> None:
    from talos.apid.server import ApidServer, ApidSettings
    from talos.machinery.errors import InvalidArgument
    plain = pki.ca.issue_key_pair(IssueOptions(organizations=("os:admin",), server=True))
    with pytest.raises(InvalidArgument, match="os:impersonator"):
        ApidServer(ApidSettings(pki.ca_pem, plain.crt, plain.key,
                                backend_socket=str(tmp_path / "s")))
    other = pki.ca.issue_key_pair(IssueOptions(organizations=("os:impersonator",)))
    with pytest.raises(InvalidArgument, match="does not match"):
        ApidServer(ApidSettings(pki.ca_pem, pki.node_cert("127.0.0.2").crt, other.key,
                                backend_socket=str(tmp_path / "s")))
