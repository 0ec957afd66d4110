"""secrets.APIController: while apid runs, the node certificate follows the node's
addresses, hostname and certSANs; a new TLS handshake with apid (its real server, built from
the files as the apid process builds it) presents a certificate naming the new address."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
from pathlib import Path

from talos.apid.server import ApidServer, ApidSettings
from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.secrets.api import APIController
from talos.machined.services.identity import (
    IdentityFiles,
    identity_config,
    issue_identity,
    names_of,
)
from talos.machinery.constants import ROLE_IMPERSONATOR, TRUSTD_PORT
from talos.machinery.pki import (
    CertificateAuthority,
    IssueOptions,
    load_certificate,
    organizations_of,
    verify_issued_by,
)
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import (
    HOSTNAME_STATUS,
    NODE_ADDRESS,
    HostnameStatusSpec,
    NodeAddressSpec,
)
from talos.trustd.server import TrustdServer, TrustdSettings
from tests.tls_peer import presented_addresses
from tests.unit.controllers.configs import machine_config

CA = CertificateAuthority.generate(organization="talos")


def _config(cert_sans: list[str] | None = None) -> dict[str, object]:
    pem = CA.to_pem()
    return {"machine": {
        "type": "controlplane", "token": "abcdef.0123456789abcdef",
        "ca": {"crt": base64.b64encode(pem.crt).decode(),
               "key": base64.b64encode(pem.key).decode()},
        **({"certSANs": cert_sans} if cert_sans else {})}}


async def _apid(files: IdentityFiles, tmp_path: Path) -> ApidServer:
    """apid on 127.0.0.1 serving the files (`python -m talos apid --cert --key` does this)."""
    settings = ApidSettings.from_files(ca=files.ca, cert=files.cert, key=files.key,
                                       listen="127.0.0.1:0",
                                       backend_socket=str(tmp_path / "machined.sock"))
    server = ApidServer(settings)
    await server.start()
    return server


def _cert(files: IdentityFiles) -> bytes:
    return Path(files.cert).read_bytes()


def _presented(port: int) -> list[str]:
    return presented_addresses(port, CA.to_pem().crt)


async def test_apid_presents_a_new_address_without_a_restart(tmp_path: Path) -> None:
    files = IdentityFiles(str(tmp_path / "apid"))
    raw = machine_config(_config())
    await issue_identity(identity_config(raw.text.encode(), "cp-1"), files,
                         addresses=["10.5.0.2"])
    issued = _cert(files)
    apid = await _apid(files, tmp_path)
    try:
        async with ControllerHarness(APIController([files])) as h:
            await h.put(MACHINE_CONFIG, ACTIVE_ID, raw)
            await h.put(HOSTNAME_STATUS, "hostname", HostnameStatusSpec("cp-1"))
            await h.put(NODE_ADDRESS, "current", NodeAddressSpec(("10.5.0.2/24",)))
            await h.settled()
            assert _cert(files) == issued  # the names it was issued with: nothing to do
            assert await asyncio.to_thread(_presented, apid.port) == ["10.5.0.2", "127.0.0.1"]

            # the config's static address lands after boot
            await h.put(NODE_ADDRESS, "current",
                        NodeAddressSpec(("10.5.0.2/24", "192.168.7.20/24")))
            await h.settled()
            assert _cert(files) != issued
            assert await asyncio.to_thread(_presented, apid.port) == [
                "10.5.0.2", "192.168.7.20", "127.0.0.1"]

            # a new DHCP lease replaces the address
            await h.put(NODE_ADDRESS, "current", NodeAddressSpec(("10.5.0.9/24",)))
            await h.settled()
            assert await asyncio.to_thread(_presented, apid.port) == ["10.5.0.9", "127.0.0.1"]
    finally:
        await apid.stop(0)


async def test_cert_sans_and_hostname_changes_issue_it_again(tmp_path: Path) -> None:
    files = IdentityFiles(str(tmp_path / "apid"))
    raw = machine_config(_config())
    await issue_identity(identity_config(raw.text.encode(), "cp-1"), files,
                         addresses=["10.5.0.2"])
    async with ControllerHarness(APIController([files])) as h:
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config(_config(["203.0.113.7"])))
        await h.put(HOSTNAME_STATUS, "hostname", HostnameStatusSpec("cp-2", "example.org"))
        await h.put(NODE_ADDRESS, "current", NodeAddressSpec(("10.5.0.2/24",)))
        await h.settled()
    cert = _cert(files)
    dns, ips = names_of(cert)
    assert set(dns) == {"cp-2.example.org"}
    assert {str(ip) for ip in ips} == {"10.5.0.2", "127.0.0.1", "203.0.113.7"}
    assert organizations_of(load_certificate(cert)) == [ROLE_IMPERSONATOR]


async def test_a_certificate_not_issued_yet_is_left_to_the_service(tmp_path: Path) -> None:
    files = IdentityFiles(str(tmp_path / "trustd"))  # trustd does not run on this node
    async with ControllerHarness(APIController([files])) as h:
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config(_config()))
        await h.put(HOSTNAME_STATUS, "hostname", HostnameStatusSpec("cp-1"))
        await h.put(NODE_ADDRESS, "current", NodeAddressSpec(("10.5.0.2/24",)))
        await h.settled()
    assert not (tmp_path / "trustd").exists()


#: a loopback address of this test's own: trustd must listen on its fixed port (a worker asks
#: `cluster.controlPlane.endpoint`'s host at :50001)
TRUSTD_HOST = "127.0.77.41"
TOKEN = "abcdef.0123456789abcdef"


async def test_a_worker_gets_its_new_certificate_from_trustd(tmp_path: Path) -> None:
    serving = CA.issue_key_pair(IssueOptions(
        ip_addresses=(ipaddress.ip_address(TRUSTD_HOST),), server=True, client=False))
    trustd = TrustdServer(TrustdSettings(CA, serving, TOKEN,
                                         listen=f"{TRUSTD_HOST}:{TRUSTD_PORT}"))
    await trustd.start()
    try:
        worker = machine_config({
            "machine": {"type": "worker", "token": TOKEN,
                        "ca": {"crt": base64.b64encode(CA.to_pem().crt).decode()}},
            "cluster": {"controlPlane": {"endpoint": f"https://{TRUSTD_HOST}:6443"}}})
        files = IdentityFiles(str(tmp_path / "apid"))
        await issue_identity(identity_config(worker.text.encode(), "worker-1"), files,
                             addresses=["10.5.0.3"])
        async with ControllerHarness(APIController([files])) as h:
            await h.put(MACHINE_CONFIG, ACTIVE_ID, worker)
            await h.put(HOSTNAME_STATUS, "hostname", HostnameStatusSpec("worker-1"))
            await h.put(NODE_ADDRESS, "current", NodeAddressSpec(("10.5.0.3/24",
                                                                  "192.168.7.30/24")))
            await h.settled()
    finally:
        await trustd.stop(0)
    cert = load_certificate(_cert(files))
    verify_issued_by(cert, CA.cert)
    assert {str(ip) for ip in names_of(_cert(files))[1]} == {
        "10.5.0.3", "192.168.7.30", "127.0.0.1"}
    assert organizations_of(cert) == [ROLE_IMPERSONATOR]
