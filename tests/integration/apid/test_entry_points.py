"""`python -m talos apid|trustd` as real processes: serve, stop on SIGTERM, clear errors."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import grpc
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2_grpc
from talos.api.security import security_pb2, security_pb2_grpc
from tests.integration.apid.harness import Backend, Pki, free_port
from tests.processes import terminate


async def test_apid_process_serves_and_exits_cleanly(tmp_path: Path, pki: Pki) -> None:
    sock = tmp_path / "machined.sock"
    backend = grpc.aio.server()
    backend.add_generic_rpc_handlers([Backend("proc-node")])
    backend.add_insecure_port(f"unix:{sock}")
    await backend.start()
    cert = pki.node_cert("127.0.0.2")
    for name, data in (("ca.pem", pki.ca_pem), ("crt.pem", cert.crt), ("key.pem", cert.key)):
        (tmp_path / name).write_bytes(data)
    port = free_port(["127.0.0.2"])
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "talos", "apid", "--listen", f"127.0.0.2:{port}",
        "--backend", str(sock), "--ca", str(tmp_path / "ca.pem"),
        "--cert", str(tmp_path / "crt.pem"), "--key", str(tmp_path / "key.pem"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        line = await asyncio.wait_for(proc.stderr.readline(), 60)
        assert b"apid: serving on" in line
        client = pki.client("os:reader")
        creds = grpc.ssl_channel_credentials(pki.ca_pem, client.key, client.crt)
        async with grpc.aio.secure_channel(f"127.0.0.2:{port}", creds) as ch:
            reply = await machine_pb2_grpc.MachineServiceStub(ch).Version(empty_pb2.Empty())
        assert reply.messages[0].version.sha == "proc-node"
        assert await terminate(proc) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await backend.stop(0)


async def test_trustd_process_signs_with_the_token(tmp_path: Path, pki: Pki) -> None:
    import ipaddress

    from talos.machinery.pki import IssueOptions, generate_token, new_csr, new_private_key
    serving = pki.ca.issue_key_pair(IssueOptions(
        ip_addresses=(ipaddress.ip_address("127.0.0.3"),), server=True, client=False))
    token = generate_token()
    ca = pki.ca.to_pem()
    for name, data in (("ca.crt", ca.crt), ("ca.key", ca.key), ("crt.pem", serving.crt),
                       ("key.pem", serving.key), ("token", token.encode())):
        (tmp_path / name).write_bytes(data)
    port = free_port(["127.0.0.3"])
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "talos", "trustd", "--listen", f"127.0.0.3:{port}",
        "--ca-cert", str(tmp_path / "ca.crt"), "--ca-key", str(tmp_path / "ca.key"),
        "--cert", str(tmp_path / "crt.pem"), "--key", str(tmp_path / "key.pem"),
        "--token-file", str(tmp_path / "token"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        assert b"trustd: serving" in await asyncio.wait_for(proc.stderr.readline(), 60)
        from cryptography.hazmat.primitives import serialization
        csr = new_csr(new_private_key(), organizations=["os:impersonator"]).public_bytes(
            serialization.Encoding.PEM)
        async with grpc.aio.secure_channel(
                f"127.0.0.3:{port}", grpc.ssl_channel_credentials(ca.crt)) as ch:
            reply = await security_pb2_grpc.SecurityServiceStub(ch).Certificate(
                security_pb2.CertificateRequest(csr=csr), metadata=(("token", token),))
        assert reply.crt.startswith(b"-----BEGIN CERTIFICATE-----")
        assert await terminate(proc) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_missing_files_are_clear_errors(tmp_path: Path) -> None:
    for component, args in (
            ("apid", ["--ca", str(tmp_path / "nope.pem"), "--cert", "x", "--key", "y"]),
            ("trustd", ["--ca-cert", str(tmp_path / "nope.pem"), "--ca-key", "x",
                        "--cert", "y", "--key", "z", "--token-file", "t"])):
        r = subprocess.run([sys.executable, "-m", "talos", component, *args],
                           capture_output=True, text=True, timeout=60, check=False)
        assert r.returncode == 1
        assert "Traceback" not in r.stderr
        assert "nope.pem" in r.stderr and "No such file" in r.stderr
