"""A node pulls from a registry that asks for credentials once
machine.registries.config.<host>.auth names them: a real docker-registry over TLS (the
helpers of test_registry_tls.py) with htpasswd auth (bcrypt), pulled by the node's
containerd through ImageService.Pull. Without auth the pull fails naming the auth setting;
wrong credentials fail naming the registry; the right ones (username/password, or `auth`)
pull. The password is never on a command line (what `talosctl processes` shows) nor in the
node's log, and the private hosts directory that held the header is gone afterwards. The
same with distribution's `auth: token` and a token service the test runs (ES256 JWTs
with the signing certificate in `x5c`): a Bearer token got with username/password (OAuth
POST) or with an identityToken (refresh_token grant)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest

from talos.api.machine import machine_pb2 as m

from .node import Node, running_node
from .test_registry_tls import (
    HOST,
    REF,
    _apply,
    _certificates,
    _in_node_net,
    _pull,
    _push,
    _start_registry,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # Debian's libxcrypt does bcrypt ($2b$), what docker-registry's htpasswd wants

pytestmark = [pytest.mark.root,
              pytest.mark.requires("unshare", "containerd", "ctr", "docker-registry",
                                   "nsenter")]

USER = "alice"
PASSWORD = "pa55-for-the-registry-test"


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _wait_listening(node: Node, host: str) -> None:
    """Until something accepts TCP on `host` in the node's network namespace."""
    name, _, port = host.rpartition(":")
    code = ("import socket, sys, time\n"
            "for _ in range(200):\n"
            "    try:\n"
            f"        socket.create_connection(({name!r}, {port}), timeout=1).close()\n"
            "        sys.exit(0)\n"
            "    except OSError:\n"
            "        time.sleep(0.1)\n"
            "sys.exit(1)\n")
    subprocess.run(_in_node_net(node, sys.executable, "-c", code), check=True)


@contextmanager
def _command_lines() -> Iterator[list[bytes]]:
    """Every process command line seen on the host (a superset of the node's, what
    `talosctl processes` lists) while the block runs."""
    seen: list[bytes] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        with open(f"/proc/{pid}/cmdline", "rb") as f:
                            line = f.read()
                    except OSError:
                        continue
                    if line and line not in seen:
                        seen.append(line)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        yield seen
    finally:
        stop.set()
        t.join()


def _htpasswd_registry_files(tmp_path: Path) -> tuple[Path, bytes]:
    """The registry's directory (its certificates, an htpasswd with USER's bcrypt hash of
    PASSWORD) and the CA certificate."""
    d = tmp_path / "registry"
    d.mkdir()
    ca, _, _ = _certificates(d)
    salt = crypt.mksalt(crypt.METHOD_BLOWFISH)
    (d / "htpasswd").write_text(f"{USER}:{crypt.crypt(PASSWORD, salt)}\n")
    return d, ca


def _htpasswd_auth(d: Path) -> str:
    return f"auth:\n  htpasswd:\n    realm: test\n    path: {d / 'htpasswd'}\n"


@contextmanager
def _registry_with_image(node: Node, d: Path, auth: str) -> Iterator[None]:
    """The test registry holding the test image (pushed while it is open), then serving
    with `auth` (its config's `auth:` section), until the block ends."""
    registry = _start_registry(node, d)
    try:
        _push(node, d)
        registry.kill()
        registry.wait()
        registry = _start_registry(node, d, auth)
        _wait_listening(node, HOST)
        yield
    finally:
        registry.kill()
        registry.wait()


async def test_a_registry_with_htpasswd_auth_is_pulled_with_the_configured_credentials(
        tmp_path: Path) -> None:
    d, ca = _htpasswd_registry_files(tmp_path)
    tls = f"          ca: {_b64(ca)}\n"
    async with running_node(tmp_path / "n", hostname="registry-auth") as node:
        with _registry_with_image(node, d, _htpasswd_auth(d)):
            await node.wait_service("containerd", "running")

            # no credentials configured: the registry's 401, and where they go
            await _apply(node, tls)
            code, details = await _pull(node)
            assert code == grpc.StatusCode.FAILED_PRECONDITION, details
            assert "401 Unauthorized" in details, details
            assert f"machine.registries.config.{HOST}.auth" in details, details

            # wrong credentials: refused before ctr runs, naming the registry
            await _apply(node, tls, auth=f"          username: {USER}\n"
                                         "          password: not-the-password\n")
            assert await _pull(node) == (
                grpc.StatusCode.FAILED_PRECONDITION,
                f"pull {REF}: registry {HOST}: authentication failed (401)")

            # the right ones, as username/password and as `auth`
            await _apply(node, tls, auth=f"          username: {USER}\n"
                                         f"          password: {PASSWORD}\n")
            with _command_lines() as seen:
                assert await _pull(node) == (grpc.StatusCode.OK, "")
                await _apply(node, tls, auth="          auth: "
                             f"{_b64(f'{USER}:{PASSWORD}'.encode())}\n")
                assert await _pull(node) == (grpc.StatusCode.OK, "")
            pulls = [c for c in seen if b"ctr\0" in c and b"\0pull\0" in c]
            assert pulls, "no ctr pull was seen running"
            secrets = (PASSWORD.encode(), _b64(f"{USER}:{PASSWORD}".encode()).encode())
            for line in seen:
                assert not any(s in line for s in secrets), line.replace(b"\0", b" ")

            log = node.sandbox.log_path.read_bytes()
            assert not any(s in log for s in secrets)
            # the header lived only in the pull's private directory, gone now
            tmp = node.sandbox.ephemeral_dir / "tmp"
            assert not [p for p in tmp.iterdir() if p.name.startswith("pull-hosts-")]
            shared = node.sandbox.ephemeral_dir / "etc" / "cri" / "conf.d" / "hosts"
            for f in shared.rglob("*"):
                assert f.is_dir() or b"Authorization" not in f.read_bytes(), f


async def _apply_documents(node: Node, docs: str) -> None:
    """The node's config with `docs` (v1.13 registry documents) and no machine.registries."""
    base = node.config.replace(b"cluster:\n", b"cluster:\n  controlPlane:\n"
                                               b"    endpoint: https://127.0.0.1:6443\n")
    await node.api.ApplyConfiguration(m.ApplyConfigurationRequest(
        data=base.rstrip(b"\n") + b"\n" + docs.encode(),
        mode=m.ApplyConfigurationRequest.NO_REBOOT))


def _pem_field(name: str, pem: bytes, indent: int) -> str:
    pad = " " * (indent + 2)
    return f"{' ' * indent}{name}: |-\n" + "".join(
        pad + line + "\n" for line in pem.decode().strip().splitlines())


async def test_the_registry_documents_configure_tls_and_htpasswd_auth_for_a_pull(
        tmp_path: Path) -> None:
    # upstream v1.13 RegistryTLSConfig (PEM `ca`) + RegistryAuthConfig instead of
    # machine.registries: the same registry, the same pull
    d, ca = _htpasswd_registry_files(tmp_path)
    tls_doc = ("---\napiVersion: v1alpha1\nkind: RegistryTLSConfig\n"
               f"name: '{HOST}'\n" + _pem_field("ca", ca, 0))
    auth_doc = ("---\napiVersion: v1alpha1\nkind: RegistryAuthConfig\n"
                f"name: '{HOST}'\nusername: {USER}\npassword: {PASSWORD}\n")
    async with running_node(tmp_path / "n", hostname="registry-docs") as node:
        with _registry_with_image(node, d, _htpasswd_auth(d)):
            await node.wait_service("containerd", "running")

            # the TLS document alone: the registry's certificate is trusted, its 401 is seen
            await _apply_documents(node, tls_doc)
            code, details = await _pull(node)
            assert code == grpc.StatusCode.FAILED_PRECONDITION, details
            assert "401 Unauthorized" in details, details

            await _apply_documents(node, tls_doc + auth_doc)
            with _command_lines() as seen:
                assert await _pull(node) == (grpc.StatusCode.OK, "")
            for line in seen:
                assert PASSWORD.encode() not in line, line.replace(b"\0", b" ")
            assert PASSWORD.encode() not in node.sandbox.log_path.read_bytes()


#: the test's token service, in the node's network namespace (plain HTTP: only machined
#: speaks to it)
TOKEN_HOST = "198.18.0.1:5001"
ISSUER = "talos-test-issuer"
SERVICE = "talos-test-registry"
REFRESH = "identity-token-for-the-registry-test"

#: a Docker token service (distribution's `auth: token`): ES256 JWTs with the signing
#: certificate in `x5c`; answers the OAuth POST (password and refresh_token grants) and the
#: GET with Basic credentials; argv: a JSON file of its settings and the credentials (not
#: on its command line: the test looks there for secrets)
TOKEN_SERVER = r'''
import base64, http.server, json, os, sys, time
from urllib.parse import parse_qs, urlsplit
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

c = json.load(open(sys.argv[1]))
user, password, refresh, key_path, crt_path = (
    c["user"], c["password"], c["refresh"], c["key"], c["crt"])
key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
crt = x509.load_pem_x509_certificate(open(crt_path, "rb").read())
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def token(scopes):
    access = []
    for s in scopes:
        kind, _, rest = s.partition(":")
        name, _, actions = rest.rpartition(":")
        access.append({"type": kind, "name": name, "actions": actions.split(",")})
    now = int(time.time())
    head = {"typ": "JWT", "alg": "ES256",
            "x5c": [base64.b64encode(crt.public_bytes(serialization.Encoding.DER)).decode()]}
    claims = {"iss": c["issuer"], "sub": user, "aud": c["service"], "exp": now + 300,
              "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
    signing = b64(json.dumps(head).encode()) + "." + b64(json.dumps(claims).encode())
    r, s = decode_dss_signature(key.sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
    return signing + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def answer(self, ok, scopes):
        body = json.dumps({"access_token": token(scopes)} if ok else {}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        q = parse_qs(urlsplit(self.path).query)
        good = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.answer(self.headers.get("Authorization") == good, q.get("scope", []))
    def do_POST(self):
        f = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        ok = (f.get("grant_type") == ["password"] and f.get("username") == [user]
              and f.get("password") == [password]) or (
              f.get("grant_type") == ["refresh_token"] and f.get("refresh_token") == [refresh])
        self.answer(ok, " ".join(f.get("scope", [])).split())

host, _, port = c["listen"].rpartition(":")
http.server.HTTPServer((host, int(port)), H).serve_forever()
'''


def _token_key(d: Path) -> None:
    """The token service's signing key and self-signed certificate (the registry's
    `rootcertbundle`)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "token signer")])
    now = datetime.datetime.now(datetime.UTC)
    crt = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
           .public_key(key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(now - datetime.timedelta(minutes=5))
           .not_valid_after(now + datetime.timedelta(hours=1))
           .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
           .sign(key, hashes.SHA256()))
    (d / "token.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (d / "token.crt").write_bytes(crt.public_bytes(serialization.Encoding.PEM))


def _start_token_server(node: Node, d: Path) -> subprocess.Popen[bytes]:
    (d / "token_server.py").write_text(TOKEN_SERVER)
    (d / "token_server.json").write_text(json.dumps({
        "user": USER, "password": PASSWORD, "refresh": REFRESH, "issuer": ISSUER,
        "service": SERVICE, "listen": TOKEN_HOST, "key": str(d / "token.key"),
        "crt": str(d / "token.crt")}))
    with open(d / "token.log", "wb") as log:
        # nsenter execs python: the pid is the server's
        return subprocess.Popen(_in_node_net(node, sys.executable, str(d / "token_server.py"),
                                             str(d / "token_server.json")),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/")


async def test_a_registry_with_token_auth_is_pulled_with_a_bearer_token(
        tmp_path: Path) -> None:
    d = tmp_path / "registry"
    d.mkdir()
    ca, _, _ = _certificates(d)
    _token_key(d)
    tls = f"          ca: {_b64(ca)}\n"
    async with running_node(tmp_path / "n", hostname="registry-token") as node:
        tokens: subprocess.Popen[bytes] | None = None
        with _registry_with_image(node, d, (
                f"auth:\n  token:\n    realm: http://{TOKEN_HOST}/token\n"
                f"    service: {SERVICE}\n    issuer: {ISSUER}\n"
                f"    rootcertbundle: {d / 'token.crt'}\n")):
            try:
                tokens = _start_token_server(node, d)
                _wait_listening(node, TOKEN_HOST)
                await node.wait_service("containerd", "running")

                await _apply(node, tls)
                code, details = await _pull(node)
                assert code == grpc.StatusCode.FAILED_PRECONDITION, details
                assert f"machine.registries.config.{HOST}.auth" in details, details

                await _apply(node, tls, auth=f"          username: {USER}\n"
                                             "          password: not-the-password\n")
                assert await _pull(node) == (
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"pull {REF}: registry {HOST}: token service {TOKEN_HOST}: "
                    "authentication failed (401)")

                with _command_lines() as seen:
                    await _apply(node, tls, auth=f"          username: {USER}\n"
                                                 f"          password: {PASSWORD}\n")
                    assert await _pull(node) == (grpc.StatusCode.OK, "")
                    await _apply(node, tls, auth=f"          identityToken: {REFRESH}\n")
                    assert await _pull(node) == (grpc.StatusCode.OK, "")
                for line in seen:
                    assert PASSWORD.encode() not in line and REFRESH.encode() not in line
                log = node.sandbox.log_path.read_bytes()
                assert PASSWORD.encode() not in log and REFRESH.encode() not in log
                tmp = node.sandbox.ephemeral_dir / "tmp"
                assert not [p for p in tmp.iterdir() if p.name.startswith("pull-hosts-")]
            finally:
                if tokens is not None:
                    tokens.kill()
                    tokens.wait()
