"""Registry auth for the node's pulls (registry_auth.py): credentials as upstream v1.13.9's
PrepareAuth reads them, WWW-Authenticate challenges, the Basic header and the Bearer token
flow of containerd's docker authorizer (against a small local HTTP registry and token
service in this process), the header tables hosts.toml gets, and no secret in any repr or
error."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from talos.machined.server import images
from talos.machined.server import registry_auth as ra
from talos.machined.server import registry_hosts as rh
from talos.machined.server.registry_hosts import Endpoint, Header, Mirror
from talos.machinery.config.v1alpha1 import RegistryAuthConfig
from talos.machinery.errors import FailedPrecondition

PASSWORD = "s3cret-pa55word"
TOKEN = "tok3n.for-the-pull"
REFRESH = "identity-refresh-token-xyz"


def _auth(**kw: str) -> RegistryAuthConfig:
    return RegistryAuthConfig.model_validate(kw)


# -- credentials ------------------------------------------------------------------------------

def test_credentials_follow_upstream_prepare_auth_order() -> None:
    both = _auth(username="u", password=PASSWORD, identityToken=REFRESH,
                 auth=base64.b64encode(b"x:y").decode())
    assert ra.credentials(both, "h") == ra.Credentials("u", PASSWORD)
    assert ra.credentials(_auth(identityToken=REFRESH, auth="eDp5"), "h") == \
        ra.Credentials("", REFRESH)
    encoded = base64.b64encode(f"alice:{PASSWORD}\x00\x00".encode()).decode()
    assert ra.credentials(_auth(auth=encoded), "h") == ra.Credentials("alice", PASSWORD)


@pytest.mark.parametrize("auth, expected", [
    ({"auth": "!!not base64!!"},
     "machine.registries.config.reg:5000.auth.auth: not valid base64"),
    ({"auth": base64.b64encode(PASSWORD.encode()).decode()},
     "machine.registries.config.reg:5000.auth.auth: the decoded value has no ':'"),
    ({}, "machine.registries.config.reg:5000.auth: none of username, identityToken or auth"),
])
def test_a_bad_auth_names_the_field_never_the_value(auth: dict[str, str],
                                                    expected: str) -> None:
    with pytest.raises(FailedPrecondition) as e:
        ra.credentials(_auth(**auth), "reg:5000")
    assert str(e.value).startswith(expected)
    for v in auth.values():
        assert v not in str(e.value)
    assert PASSWORD not in str(e.value)


def test_no_secret_in_any_repr() -> None:
    creds = ra.Credentials("alice", PASSWORD)
    header = ra.basic(creds, "h")
    encoded = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    entry_file = rh.generate({}, {}, "/b", {"https://h": (ra.bearer(TOKEN),)})["h"][0]
    for obj in (creds, ra.Credentials("", REFRESH), header, ra.bearer(TOKEN), entry_file):
        for text in (repr(obj), str(obj)):
            assert PASSWORD not in text and encoded not in text
            assert TOKEN not in text and REFRESH not in text
    assert header.value == f"Basic {encoded}"


def test_an_identity_token_cannot_answer_basic_auth() -> None:
    with pytest.raises(FailedPrecondition, match="registry h: asks for Basic auth") as e:
        ra.basic(ra.Credentials("", REFRESH), "h")
    assert REFRESH not in str(e.value)


# -- challenges -------------------------------------------------------------------------------

def test_challenges_are_parsed() -> None:
    assert ra.parse_challenges(
        ['Bearer realm="https://auth.example/token",service="registry.example",'
         'scope="repository:a/b:pull"']) == [
        ra.Challenge("bearer", (("realm", "https://auth.example/token"),
                                ("service", "registry.example"),
                                ("scope", "repository:a/b:pull")))]
    assert ra.parse_challenges(['Basic realm="Registry Realm"']) == [
        ra.Challenge("basic", (("realm", "Registry Realm"),))]
    # several challenges in one value, a token68 one, escapes, unquoted values
    assert ra.parse_challenges(
        ['Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
         "Negotiate abc123=="]) == [
        ra.Challenge("newauth", (("realm", "apps"), ("type", "1"),
                                 ("title", 'Login to "apps"'))),
        ra.Challenge("basic", (("realm", "simple"),)),
        ra.Challenge("negotiate")]
    assert ra.parse_challenges(["", "   "]) == []


# -- a local registry and token service -------------------------------------------------------

@dataclass
class Fake:
    """What the fake registry asks for and what it saw."""

    scheme: str = "basic"           # basic | bearer
    post_status: int = 200          # the token service's answer to the OAuth POST
    seen: list[tuple[str, str, dict[str, list[str]], str]] = field(default_factory=list)
    url: str = ""

    def ok(self, authorization: str) -> bool:
        if self.scheme == "basic":
            return authorization == "Basic " + base64.b64encode(
                f"alice:{PASSWORD}".encode()).decode()
        return authorization == f"Bearer {TOKEN}"


@pytest.fixture
def fake() -> Iterator[Fake]:
    state = Fake()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes = b"", challenge: str = "") -> None:
            self.send_response(status)
            if challenge:
                self.send_header("WWW-Authenticate", challenge)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _token(self, form: dict[str, list[str]]) -> None:
            auth = self.headers.get("Authorization", "")
            good_basic = auth == "Basic " + base64.b64encode(
                f"alice:{PASSWORD}".encode()).decode()
            good = (good_basic
                    or (form.get("password") == [PASSWORD] and form.get("username") == ["alice"])
                    or form.get("refresh_token") == [REFRESH])
            if not good:
                self._answer(401, f'{{"details": "bad {PASSWORD}"}}'.encode())
                return
            key = "access_token" if self.command == "POST" else "token"
            self._answer(200, json.dumps({key: TOKEN}).encode())

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            state.seen.append(("GET", parts.path, parse_qs(parts.query),
                               self.headers.get("Authorization", "")))
            if parts.path == "/token":
                self._token(parse_qs(parts.query))
            elif parts.path == "/v2/":
                if state.ok(self.headers.get("Authorization", "")):
                    self._answer(200, b"{}")
                elif state.scheme == "basic":
                    self._answer(401, challenge='Basic realm="Registry Realm"')
                else:
                    self._answer(401, challenge=f'Bearer realm="{state.url}/token",'
                                                'service="fake-registry"')
            else:
                self._answer(404)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            form = parse_qs(body)
            state.seen.append(("POST", self.path, form, ""))
            if state.post_status != 200:
                self._answer(state.post_status)
            else:
                self._token(form)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        t.join()


def _endpoint(fake: Fake) -> Endpoint:
    return Endpoint(fake.url)


def test_basic_auth_gives_the_basic_header(fake: Fake, tmp_path: Path) -> None:
    header = ra.authorize(_endpoint(fake), "a/b", ra.Credentials("alice", PASSWORD), None,
                          str(tmp_path))
    assert header is not None and fake.ok(header.value)


def test_wrong_basic_credentials_fail_naming_the_host(fake: Fake, tmp_path: Path) -> None:
    with pytest.raises(ra.AuthFailed) as e:
        ra.authorize(_endpoint(fake), "a/b", ra.Credentials("alice", "wrong"), None,
                     str(tmp_path))
    host = urlsplit(fake.url).netloc
    assert str(e.value) == f"registry {host}: authentication failed (401)"


def test_an_open_registry_gets_no_header(fake: Fake, tmp_path: Path) -> None:
    fake.scheme = "basic"
    ep = Endpoint(fake.url + "/open", override_path=True)  # answers 404, not 401
    assert ra.authorize(ep, "a/b", ra.Credentials("alice", PASSWORD), None,
                        str(tmp_path)) is None


def test_bearer_with_a_password_uses_the_oauth_post(fake: Fake, tmp_path: Path) -> None:
    fake.scheme = "bearer"
    header = ra.authorize(_endpoint(fake), "team/app", ra.Credentials("alice", PASSWORD),
                          None, str(tmp_path))
    assert header == Header("Authorization", f"Bearer {TOKEN}")
    posts = [s for s in fake.seen if s[0] == "POST"]
    assert posts == [("POST", "/token", {
        "scope": ["repository:team/app:pull"], "service": ["fake-registry"],
        "client_id": ["containerd-client"], "grant_type": ["password"],
        "username": ["alice"], "password": [PASSWORD]}, "")]


def test_bearer_falls_back_to_the_get_when_the_service_takes_no_post(
        fake: Fake, tmp_path: Path) -> None:
    fake.scheme, fake.post_status = "bearer", 404
    header = ra.authorize(_endpoint(fake), "team/app", ra.Credentials("alice", PASSWORD),
                          None, str(tmp_path))
    assert header == Header("Authorization", f"Bearer {TOKEN}")
    gets = [s for s in fake.seen if s[:2] == ("GET", "/token")]
    assert [(g[2], g[3]) for g in gets] == [
        ({"service": ["fake-registry"], "scope": ["repository:team/app:pull"]},
         "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode())]


def test_bearer_with_an_identity_token_uses_the_refresh_token_grant(
        fake: Fake, tmp_path: Path) -> None:
    fake.scheme = "bearer"
    header = ra.authorize(_endpoint(fake), "team/app", ra.Credentials("", REFRESH), None,
                          str(tmp_path))
    assert header == Header("Authorization", f"Bearer {TOKEN}")
    post = next(s for s in fake.seen if s[0] == "POST")
    assert post[2]["grant_type"] == ["refresh_token"]
    assert post[2]["refresh_token"] == [REFRESH]


def test_a_refused_token_request_names_the_service_never_the_answer(
        fake: Fake, tmp_path: Path) -> None:
    fake.scheme = "bearer"
    with pytest.raises(ra.AuthFailed) as e:
        ra.authorize(_endpoint(fake), "a/b", ra.Credentials("alice", "wrong"), None,
                     str(tmp_path))
    host = urlsplit(fake.url).netloc
    assert str(e.value) == (f"registry {host}: token service {host}: authentication "
                            "failed (401)")


def test_an_unreachable_endpoint_is_named(tmp_path: Path) -> None:
    with pytest.raises(ra.Unreachable, match=r"^registry 127.0.0.1:9: "):
        ra.authorize(Endpoint("http://127.0.0.1:9"), "a/b", ra.Credentials("u", PASSWORD),
                     None, str(tmp_path))


# -- hosts.toml headers and the endpoints of a pull -------------------------------------------

def test_headers_go_on_their_endpoints_and_on_an_explicit_fallback_server() -> None:
    basic = Header("Authorization", "Basic QQ==")
    bearer = Header("Authorization", "Bearer t")
    out = rh.generate({"docker.io": Mirror(("https://mirror.example",))}, {}, "/b",
                      {"https://mirror.example": (basic,),
                       "https://registry-1.docker.io": (bearer,),
                       "https://other.example:5000": (bearer,)})
    docker = tomllib.loads(out["docker.io"][0].contents.decode())
    assert docker == {"server": "https://registry-1.docker.io",
                      "header": {"Authorization": "Bearer t"},
                      "host": {"https://mirror.example": {
                          "capabilities": ["pull", "resolve"],
                          "header": {"Authorization": "Basic QQ=="}}}}
    # a registry with no mirror gets its own directory with the header on its server
    assert tomllib.loads(out["other.example_5000_"][0].contents.decode()) == {
        "server": "https://other.example:5000", "header": {"Authorization": "Bearer t"},
        "host": {}}
    # without headers nothing changes
    assert rh.generate({"docker.io": Mirror(("https://mirror.example",))}, {}, "/b") == {
        "docker.io": (rh.HostsFile("hosts.toml", (
            b"[host]\n  [host.'https://mirror.example']\n"
            b"    capabilities = ['pull', 'resolve']\n")),)}


def test_the_endpoints_containerd_tries() -> None:
    mirrors = {"docker.io": Mirror(("https://m1/", "http://m2:5000/base")),
               "10.5.0.1:5000": Mirror(("http://10.5.0.1:5000",)),
               "q.io": Mirror(("https://a", "https://b"), skip_fallback=True),
               "*": Mirror(("https://any",), override_path=True)}
    assert rh.endpoints(mirrors, "docker.io") == [
        Endpoint("https://m1"), Endpoint("http://m2:5000/base"),
        Endpoint("https://registry-1.docker.io")]
    assert rh.endpoints(mirrors, "10.5.0.1:5000") == [
        Endpoint("http://10.5.0.1:5000"), Endpoint("http://10.5.0.1:5000")]
    assert rh.endpoints(mirrors, "q.io") == [Endpoint("https://a"), Endpoint("https://b")]
    assert rh.endpoints(mirrors, "ghcr.io") == [Endpoint("https://any", True),
                                                Endpoint("https://ghcr.io")]
    assert rh.endpoints({}, "localhost:5000") == [Endpoint("http://localhost:5000")]
    assert Endpoint("http://m2:5000/base").api_base() == "http://m2:5000/base/v2"
    assert Endpoint("https://any/x/", True).api_base() == "https://any/x"
    assert Endpoint("https://u@h:1").host == "h:1"


@pytest.mark.parametrize("name, expected", [
    ("docker.io/library/alpine:latest", ("docker.io", "library/alpine")),
    ("10.5.0.1:5000/a/b/c:v1", ("10.5.0.1:5000", "a/b/c")),
    ("ghcr.io/x/y:v1@sha256:" + "0" * 64, ("ghcr.io", "x/y")),
    ("ghcr.io/x/y@sha256:" + "0" * 64, ("ghcr.io", "x/y")),
])
def test_the_repository_of_a_reference(name: str, expected: tuple[str, str]) -> None:
    assert images.split_name(name) == expected


def test_private_hosts_directories_left_by_a_stopped_pull_are_removed(tmp_path: Path) -> None:
    import os
    import time
    old = tmp_path / f"{images.PRIVATE_PREFIX}old"
    fresh = tmp_path / f"{images.PRIVATE_PREFIX}fresh"
    other = tmp_path / "image-import-1.tar"
    for d in (old, fresh):
        (d / "h").mkdir(parents=True)
        (d / "h" / "hosts.toml").write_text("[header]\n")
    other.write_text("x")
    past = time.time() - images.STALE_AFTER - 10
    os.utime(old, (past, past))
    os.utime(other, (past, past))
    images._remove_stale_private_dirs(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, other.name])


def _cfg(registries: str = "", docs: str = "") -> Any:
    from talos.machinery.config import load_config
    return load_config("version: v1alpha1\nmachine:\n  type: worker\n" + registries
                       + "cluster:\n  clusterName: t\n" + docs)


def test_registry_auth_documents_give_the_credentials_machine_registries_gives(
        fake: Fake, tmp_path: Path) -> None:
    # upstream v1.13.9 RegistryAuthConfig: `name` is the endpoint host[:port]
    host = urlsplit(fake.url).netloc
    encoded = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    legacy = _cfg("  registries:\n    config:\n"
                  f"      {host}:\n        auth:\n          username: alice\n"
                  f"          password: {PASSWORD}\n"
                  f"      t.example:\n        auth:\n          identityToken: {REFRESH}\n"
                  f"      b.example:\n        auth:\n          auth: {encoded}\n")
    documents = _cfg(docs=(
        f"---\napiVersion: v1alpha1\nkind: RegistryAuthConfig\nname: '{host}'\n"
        f"username: alice\npassword: {PASSWORD}\n"
        f"---\napiVersion: v1alpha1\nkind: RegistryAuthConfig\nname: t.example\n"
        f"identityToken: {REFRESH}\n"
        f"---\napiVersion: v1alpha1\nkind: RegistryAuthConfig\nname: b.example\n"
        f"auth: {encoded}\n"))
    old, new = ra.from_config(legacy), ra.from_config(documents)
    assert sorted(old) == sorted(new) == sorted([host, "t.example", "b.example"])
    for h in old:
        assert ra.credentials(new[h], h) == ra.credentials(old[h], h)
    header = ra.authorize(_endpoint(fake), "a/b", ra.credentials(new[host], host), None,
                          str(tmp_path))
    assert header is not None and fake.ok(header.value)


def test_a_bad_auth_document_is_named_by_its_document_path() -> None:
    auths = ra.from_config(_cfg(docs=(
        "---\napiVersion: v1alpha1\nkind: RegistryAuthConfig\nname: r.example\n"
        f"auth: {base64.b64encode(PASSWORD.encode()).decode()}\n")))
    with pytest.raises(FailedPrecondition) as e:
        ra.credentials(auths["r.example"], "r.example")
    assert str(e.value).startswith("RegistryAuthConfig/r.example.auth: the decoded value has "
                                   "no ':'")
    assert PASSWORD not in str(e.value) and PASSWORD not in repr(auths)


def test_an_auth_document_replaces_the_machine_registries_auth_of_its_host() -> None:
    auths = ra.from_config(_cfg(
        "  registries:\n    config:\n      r.example:\n        auth:\n"
        "          username: old\n          password: old-password\n",
        "---\napiVersion: v1alpha1\nkind: RegistryAuthConfig\nname: r.example\n"
        f"username: new\npassword: {PASSWORD}\n"))
    assert ra.credentials(auths["r.example"], "r.example") == ra.Credentials("new", PASSWORD)
