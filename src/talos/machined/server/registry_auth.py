"""Registry auth (`machine.registries.config.<host>.auth`) for the node's image pulls, as a
static `Authorization` header in a pull's private containerd hosts.toml (`registry_hosts`
`Header`): `ctr` takes credentials only on its command line, which anyone may read in /proc
and `talosctl processes`; a header in a 0600 file under a 0700 directory is read by no one
else.

The credentials follow upstream v1.13.9 (internal/pkg/containers/image/resolver.go
`PrepareAuth`): `username` (with `password`) first, else `identityToken` (no username: an
OAuth refresh token), else `auth` (base64 `user:password`, NUL padding trimmed from the
password). They are looked up by the host[:port] of the endpoint being spoken to (upstream
`reg.Auths()[u.Host]`): for docker.io that is registry-1.docker.io.

Before a pull, `authorize` asks the endpoint `GET <api root>/` (what docker's client pings)
with the TLS settings hosts.toml gives it (CA, client identity, insecureSkipVerify) and
reads its `WWW-Authenticate` challenge:

- `Basic` -> `Basic base64(user:password)` (an identity token alone cannot answer it: as
  containerd's authorizer, "no basic auth credentials");
- `Bearer realm=..,service=..` -> a token from the realm, as containerd's docker authorizer
  gets one: the OAuth POST (grant_type=password, or refresh_token for an identity token,
  client_id containerd-client) and, when the token service does not take POSTs (400, 401,
  404, or 405 with a username), the GET with Basic credentials; scope
  `repository:<name>:pull` -> `Bearer <token>`;
- no challenge (the endpoint answers without auth) -> no header.

The header is then checked with a second `GET <api root>/`: a 401 is "authentication
failed". Every request has bounded timeouts; this runs in a thread.

Errors (FailedPrecondition, as every other failed pull here; upstream returns the
resolver's plain error, gRPC Unknown) name the registry host and what failed, never a
credential, a token or a header: `registry 10.5.0.1:5000: authentication failed (401)`.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import os
import re
import ssl
import tempfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from talos.machined.server.registry_hosts import TLS, Endpoint, Header
from talos.machinery.config import cri
from talos.machinery.errors import FailedPrecondition

#: connect / read timeout of each request (s); a flow makes at most four
TIMEOUT = 10.0
#: the most of a token service's answer that is read
MAX_BODY = 1 << 20
CLIENT_ID = "containerd-client"
#: RFC 6750 b64token: what a Bearer token may hold (nothing that breaks a header or TOML)
_TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


@dataclass(frozen=True)
class Credentials:
    """What PrepareAuth gives containerd: username + secret (the password), or no username
    and an identity token as the secret. Neither is ever part of a repr."""

    username: str = field(repr=False)
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Challenge:
    """One challenge of a `WWW-Authenticate` header: its scheme (lower case) and
    parameters (names lower case)."""

    scheme: str
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str:
        return next((v for k, v in self.params if k == name), "")


# -- credentials ------------------------------------------------------------------------------

def credentials(auth: Any, host: str) -> Credentials:
    """The credentials of `machine.registries.config.<host>.auth` (upstream PrepareAuth);
    errors name the field, never its value."""
    path = getattr(auth, "source", "") or f"machine.registries.config.{host}.auth"
    username = str(getattr(auth, "username", None) or "")
    password = str(getattr(auth, "password", None) or "")
    token = str(getattr(auth, "identity_token", None) or "")
    encoded = str(getattr(auth, "auth", None) or "")
    if username:
        return Credentials(username, password)
    if token:
        return Credentials("", token)
    if encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, ValueError):
            raise FailedPrecondition(f"{path}.auth: not valid base64 (expected base64 of "
                                     "user:password)") from None
        user, sep, pw = decoded.partition(":")
        if not sep:
            raise FailedPrecondition(f"{path}.auth: the decoded value has no ':' "
                                     "(expected base64 of user:password)")
        return Credentials(user, pw.strip("\x00"))
    raise FailedPrecondition(f"{path}: none of username, identityToken or auth is set")


def from_config(config: Any) -> dict[str, Any]:
    """{host[:port]: its auth settings} of a config: `machine.registries.config.<host>.auth`
    and the RegistryAuthConfig documents, combined as upstream (`cri.registries`: a document
    replaces the v1alpha1 entry of its name); `credentials` reads one when a pull needs it
    (a bad entry fails only the pulls that speak to its host, as upstream)."""
    return dict(cri.registries(config).auth)


# -- challenges -------------------------------------------------------------------------------

_TOKEN68 = r"[A-Za-z0-9\-._~+/]+=*"
_PARAM = re.compile(r'\s*([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*'
                    r'(?:"((?:[^"\\]|\\.)*)"|([!#$%&\'*+\-.^_`|~0-9A-Za-z]+))\s*')
_SCHEME = re.compile(r"\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)")


def parse_challenges(values: list[str]) -> list[Challenge]:
    """The challenges of `WWW-Authenticate` header values (RFC 7235: a scheme, then
    comma-separated `name=value` or `name="quoted"` parameters; several challenges may
    share one value). A part that does not parse ends that value."""
    out = []
    for value in values:
        pos = 0
        while pos < len(value):
            m = _SCHEME.match(value, pos)
            if m is None:
                break
            scheme, pos = m.group(1).lower(), m.end()
            params: list[tuple[str, str]] = []
            tok = re.compile(r"\s+(" + _TOKEN68 + r")\s*(?:,|$)").match(value, pos)
            if tok is not None and not _PARAM.match(value, pos):
                pos = tok.end()
            else:
                while True:
                    p = _PARAM.match(value, pos)
                    if p is None:
                        break
                    raw = p.group(2) if p.group(2) is not None else p.group(3)
                    params.append((p.group(1).lower(), re.sub(r"\\(.)", r"\1", raw)))
                    pos = p.end()
                    if value.startswith(",", pos):
                        pos += 1
                        # a following `name=` continues this challenge, a bare token starts
                        # the next one
                        if _PARAM.match(value, pos):
                            continue
                    break
            out.append(Challenge(scheme, tuple(params)))
            while pos < len(value) and value[pos] in " ,":
                pos += 1
    return out


# -- headers ----------------------------------------------------------------------------------

def basic(creds: Credentials, host: str) -> Header:
    """`Authorization: Basic base64(user:password)`."""
    if not creds.username or not creds.secret:
        raise FailedPrecondition(f"registry {host}: asks for Basic auth, but its "
                                 f"machine.registries.config.{host}.auth has no username "
                                 "and password (an identityToken works only with a Bearer "
                                 "token service)")
    raw = f"{creds.username}:{creds.secret}".encode()
    return Header("Authorization", "Basic " + base64.b64encode(raw).decode())


def bearer(token: str) -> Header:
    return Header("Authorization", f"Bearer {token}")


def scope(repository: str) -> str:
    return f"repository:{repository}:pull"


# -- HTTP -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Response:
    status: int
    challenges: list[str]
    body: bytes = field(repr=False)


class _Client:
    """Requests with the TLS settings of one registry host; the client identity is written
    (0600) under `workdir` only while the context is built."""

    def __init__(self, tls: TLS | None, workdir: str) -> None:
        self.context = ssl.create_default_context()
        if tls is None:
            return
        if tls.ca is not None:
            try:
                self.context.load_verify_locations(cadata=tls.ca.decode("ascii",
                                                                         "replace"))
            except (ssl.SSLError, ValueError):
                raise FailedPrecondition("the registry CA is not a PEM certificate") from None
        if tls.insecure_skip_verify:
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE
        if tls.client_crt is not None:
            with tempfile.TemporaryDirectory(dir=workdir) as d:
                crt, key = os.path.join(d, "client.crt"), os.path.join(d, "client.key")
                for path, data in ((crt, tls.client_crt), (key, tls.client_key or b"")):
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as f:
                        f.write(data)
                try:
                    self.context.load_cert_chain(crt, key)
                except (ssl.SSLError, ValueError):
                    raise FailedPrecondition("the registry client identity is not a PEM "
                                             "certificate and key") from None

    def request(self, method: str, url: str, headers: dict[str, str],
                body: bytes | None = None) -> _Response:
        parts = urlsplit(url)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.netloc, timeout=TIMEOUT,
                                               context=self.context)
        elif parts.scheme == "http":
            conn = http.client.HTTPConnection(parts.netloc, timeout=TIMEOUT)
        else:
            raise OSError(f"unsupported scheme {parts.scheme!r}")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request(method, target, body=body,
                         headers={"User-Agent": "talos-machined", **headers})
            resp = conn.getresponse()
            data = resp.read(MAX_BODY)
            return _Response(resp.status, resp.headers.get_all("WWW-Authenticate") or [],
                             data)
        finally:
            conn.close()


def _reason(e: BaseException) -> str:
    """What failed in a request, without anything a server sent back."""
    if isinstance(e, ssl.SSLCertVerificationError):
        return f"TLS: {e.verify_message}"
    if isinstance(e, ssl.SSLError):
        return f"TLS: {e.reason or 'handshake failed'}"
    if isinstance(e, TimeoutError):
        return f"no answer within {TIMEOUT:g} s"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return "the connection failed"


# -- the flow ---------------------------------------------------------------------------------

class AuthFailed(FailedPrecondition):
    """The registry or its token service refused the credentials."""


class Unreachable(FailedPrecondition):
    """The endpoint (or its token service) could not be asked."""


def authorize(endpoint: Endpoint, repository: str, creds: Credentials, tls: TLS | None,
              workdir: str) -> Header | None:
    """The header that authenticates a pull of `repository` at `endpoint` (None: the
    endpoint asks for no auth). Blocking: run it in a thread."""
    host = endpoint.host
    client = _Client(tls, workdir)
    ping = endpoint.api_base() + "/"
    try:
        first = client.request("GET", ping, {})
    except (OSError, http.client.HTTPException) as e:
        raise Unreachable(f"registry {host}: {_reason(e)}") from None
    if first.status != 401:
        return None
    challenges = parse_challenges(first.challenges)
    chosen = next((c for c in challenges if c.scheme == "bearer"), None) or next(
        (c for c in challenges if c.scheme == "basic"), None)
    if chosen is None:
        raise FailedPrecondition(f"registry {host}: asks for an authentication scheme this "
                                 "node does not support (expected Basic or Bearer)")
    if chosen.scheme == "basic":
        header = basic(creds, host)
    else:
        header = bearer(_token(client, host, chosen, creds, scope(repository)))
    try:
        check = client.request("GET", ping, {header.name: header.value})
    except (OSError, http.client.HTTPException) as e:
        raise Unreachable(f"registry {host}: {_reason(e)}") from None
    if check.status in (401, 403):
        raise AuthFailed(f"registry {host}: authentication failed ({check.status})")
    return header


def _token(client: _Client, host: str, challenge: Challenge, creds: Credentials,
           wanted: str) -> str:
    """A token from the challenge's realm (containerd's docker authorizer: OAuth POST, then
    the GET with Basic credentials when the service takes no POSTs)."""
    realm = challenge.param("realm")
    if urlsplit(realm).scheme not in ("http", "https") or not urlsplit(realm).netloc:
        raise FailedPrecondition(f"registry {host}: its Bearer challenge names no token "
                                 "service (realm)")
    service = challenge.param("service")
    scopes = [s for s in (challenge.param("scope"), wanted) if s]
    what = f"registry {host}: token service {urlsplit(realm).netloc}"
    form = {"scope": " ".join(scopes), "service": service, "client_id": CLIENT_ID}
    if creds.username:
        form |= {"grant_type": "password", "username": creds.username,
                 "password": creds.secret}
    else:
        form |= {"grant_type": "refresh_token", "refresh_token": creds.secret}
    try:
        resp = client.request("POST", realm,
                              {"Content-Type": "application/x-www-form-urlencoded"},
                              urlencode(form).encode())
        if resp.status in (400, 401, 404) or (resp.status == 405 and creds.username):
            query = urlencode(([("service", service)] if service else [])
                              + [("scope", s) for s in scopes])
            sep = "&" if urlsplit(realm).query else "?"
            raw = f"{creds.username}:{creds.secret}".encode()
            resp = client.request("GET", f"{realm}{sep}{query}",
                                  {"Authorization":
                                   "Basic " + base64.b64encode(raw).decode()})
    except (OSError, http.client.HTTPException) as e:
        raise Unreachable(f"{what}: {_reason(e)}") from None
    if resp.status in (401, 403):
        raise AuthFailed(f"{what}: authentication failed ({resp.status})")
    if resp.status != 200:
        raise FailedPrecondition(f"{what}: answered {resp.status} (expected 200 and a token)")
    try:
        doc = json.loads(resp.body)
        token = (doc.get("access_token") or doc.get("token")) if isinstance(doc, dict) else None
    except ValueError:
        token = None
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise FailedPrecondition(f"{what}: its answer holds no usable token")
    return token
