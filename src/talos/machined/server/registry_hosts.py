"""containerd `hosts.toml` directories for the node's image pulls, generated from the machine
config's `machine.registries` as upstream v1.13.9 does
(internal/pkg/containers/cri/containerd/hosts.go `GenerateHosts`):

- every mirror (`machine.registries.mirrors.<host>`) is a directory named by
  `host_directory` (`host:port` -> `host_port_`, `*` -> `_default`; containerd 1.6's
  `hostPaths` looks up `host_port_` first, then `host:port`) holding a `hosts.toml` with one
  `[host."<endpoint>"]` entry per endpoint, in order, capabilities pull + resolve and
  `override_path` when the mirror sets `overridePath`;
- the TLS settings of an endpoint's host (`machine.registries.config.<host>.tls`) go on its
  entry: `ca` (file `<host>-ca.crt`), `client` (`<host>-client.crt` / `.key`),
  `skip_verify`; every file is written mode 0600;
- `skipFallback` makes the last endpoint the `server` (the registry itself is never
  tried);
- a TLS config for a host with no mirror gets its own directory whose `server` is
  `https://<the host's default host>` (docker.io -> registry-1.docker.io) with the TLS
  settings; TLS for `*` without a mirror is an error (as upstream).

Where this differs from upstream, on purpose:

- a mirror whose endpoint is the registry itself over plain HTTP (the local cluster's
  registry, `http://10.5.0.1:5000` for `10.5.0.1:5000`) makes that endpoint the `server`:
  containerd would otherwise fall back to `https://<host>`, and that TLS error would hide
  the registry's own answer (an unknown tag reads "not found", not a handshake failure);
- an endpoint that is only `scheme://host/` loses its trailing slash (containerd 1.6 would
  ask `//v2/...`); any other path is kept as written;
- a `hosts.toml` with no `[host."..."]` entry still carries an empty `[host]` table:
  containerd 1.6's parser (go-toml v1 `getSortedHosts`) refuses a file without one
  ("invalid `host` tree") and silently falls back to reading the directory's `*.crt` files,
  losing `skip_verify` and the client identity.

Registry auth (`machine.registries.config.<host>.auth`) is never in the shared directory:
`ctr` could only take it on its command line, readable by anyone in /proc and `talosctl
processes`, so a pull that needs it gets its own private directory (images.pull) where
`generate` puts the `Authorization` header `registry_auth.py` made as a static header
(`[host."<endpoint>".header]`, or `[header]` for an explicit `server`; containerd 1.6.20
sends it on every request to that host, checked with the real one). `endpoints` lists what
containerd tries for a registry, in order, so that only those endpoints are asked.

No secret is ever part of an error or a repr: decode errors name the field, not the value.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from talos.machinery.atomic import write_atomic
from talos.machinery.config import cri
from talos.machinery.errors import FailedPrecondition

CAPABILITIES = ("pull", "resolve")
FILE_MODE = 0o600


@dataclass(frozen=True)
class Mirror:
    """`machine.registries.mirrors.<host>` or a RegistryMirrorConfig document.
    `endpoint_overrides`: a document's per-endpoint `overridePath` (empty: `override_path`
    applies to every endpoint, as v1alpha1's)."""

    endpoints: tuple[str, ...]
    override_path: bool = False
    skip_fallback: bool = False
    endpoint_overrides: tuple[bool, ...] = ()

    def overrides(self, index: int) -> bool:
        """Whether endpoint `index` is used with its path as written."""
        if index < len(self.endpoint_overrides):
            return self.endpoint_overrides[index]
        return self.override_path


@dataclass(frozen=True)
class TLS:
    """`machine.registries.config.<host>.tls`, decoded (PEM bytes)."""

    ca: bytes | None = None
    client_crt: bytes | None = field(default=None, repr=False)
    client_key: bytes | None = field(default=None, repr=False)
    insecure_skip_verify: bool = False

    def empty(self) -> bool:
        return self.ca is None and self.client_crt is None and not self.insecure_skip_verify


@dataclass(frozen=True)
class Header:
    """A static header containerd sends on every request to one host (hosts.toml
    `[host."<endpoint>".header]`, or `[header]` for the `server`): the registry auth step
    (`registry_auth.py`) puts `Authorization` here, only in a pull's private directory. The
    value is a secret: never part of a repr."""

    name: str
    value: str = field(repr=False)


@dataclass(frozen=True)
class HostsFile:
    """One file of a host directory: `hosts.toml` or a certificate / key."""

    name: str
    contents: bytes = field(repr=False)
    mode: int = FILE_MODE


#: {directory name: its files}
HostsConfig = dict[str, tuple[HostsFile, ...]]


@dataclass(frozen=True)
class _Entry:
    """A host of hosts.toml: the root `server` or one `[host."..."]` table."""

    host: str
    capabilities: tuple[str, ...] = ()
    override_path: bool = False
    ca: str = ""
    client: tuple[str, str] | None = None
    skip_verify: bool = False
    headers: tuple[Header, ...] = ()

    def fields(self) -> list[tuple[str, str]]:
        out = []
        if self.capabilities:
            out.append(("capabilities",
                        "[" + ", ".join(_string(c) for c in self.capabilities) + "]"))
        if self.override_path:
            out.append(("override_path", "true"))
        if self.ca:
            out.append(("ca", _string(self.ca)))
        if self.client:
            out.append(("client", f"[[{_string(self.client[0])}, {_string(self.client[1])}]]"))
        if self.skip_verify:
            out.append(("skip_verify", "true"))
        return out


def host_directory(host: str) -> str:
    """The directory name of a registry host: `:port` becomes `_port_`, `*` `_default`."""
    if host == "*":
        return "_default"
    idx = host.rfind(":")
    if idx > 0:
        return f"{host[:idx]}_{host[idx + 1:]}_"
    return host


def default_host(host: str) -> str:
    """The host containerd speaks to for a registry name (docker's DefaultHost)."""
    return "registry-1.docker.io" if host == "docker.io" else host


def render(root: _Entry | None, entries: list[_Entry]) -> bytes:
    """hosts.toml text: the root `server` with its settings, then the entries in order
    (the layout upstream's RenderTOML gives, go-toml v2 with indented tables)."""
    lines = []
    if root is not None:
        lines.append(f"server = {_string(root.host)}")
        lines += [f"{k} = {v}" for k, v in root.fields()]
        if root.headers:
            lines.append("[header]")
            lines += [f"  {_string(h.name)} = {_string(h.value)}" for h in root.headers]
    # containerd 1.6 refuses a file without a [host] table (see the module docstring)
    lines.append("[host]")
    for e in entries:
        lines.append(f"  [host.{_string(e.host)}]")
        lines += [f"    {k} = {v}" for k, v in e.fields()]
        if e.headers:
            lines.append(f"    [host.{_string(e.host)}.header]")
            lines += [f"      {_string(h.name)} = {_string(h.value)}" for h in e.headers]
    return ("\n".join(lines) + "\n").encode()


def generate(mirrors: Mapping[str, Mirror], tls: Mapping[str, TLS], base: str,
             headers: Mapping[str, tuple[Header, ...]] | None = None) -> HostsConfig:
    """The host directories (under `base`, the path containerd will read them at) for the
    config's mirrors and TLS settings; `headers` (endpoint URL as `endpoints` names it ->
    its static headers) go on the entries of those endpoints. A header for the implicit
    fallback `https://<default host>` makes that `server` explicit, in the registry's own
    directory (made for it when there is none)."""
    headers = headers or {}
    out: HostsConfig = {}

    def configure(host: str, directory: str, entry: _Entry, files: list[HostsFile]
                  ) -> _Entry:
        t = tls.get(host)
        extra = headers.get(entry.host, ())
        if t is None:
            return replace(entry, headers=extra)
        ca, client = "", None
        if t.ca is not None:
            files.append(HostsFile(f"{host}-ca.crt", t.ca))
            ca = os.path.join(base, directory, f"{host}-ca.crt")
        if t.client_crt is not None:
            files.append(HostsFile(f"{host}-client.crt", t.client_crt))
            files.append(HostsFile(f"{host}-client.key", t.client_key or b""))
            client = (os.path.join(base, directory, f"{host}-client.crt"),
                      os.path.join(base, directory, f"{host}-client.key"))
        return replace(entry, ca=ca, client=client, skip_verify=t.insecure_skip_verify,
                       headers=extra)

    for registry in sorted(mirrors):
        directory = host_directory(registry)
        files: list[HostsFile] = []
        entries = []
        root_entry, hosts = _layout(registry, mirrors[registry])
        for i, endpoint in enumerate(hosts):
            entry = _Entry(endpoint, CAPABILITIES, mirrors[registry].overrides(i))
            entries.append(configure(_url_host(registry, endpoint), directory, entry, files))
        root = None
        if root_entry == "last":
            root = entries.pop()
        elif root_entry:
            root = _Entry(root_entry, headers=headers.get(root_entry, ()))
        elif registry != "*" and headers.get(fallback := default_server(registry)):
            root = _Entry(fallback, headers=headers[fallback])
        files.append(HostsFile("hosts.toml", render(root, entries)))
        out[directory] = tuple(files)

    for host in sorted({*tls, *(_registry_of_fallback(url) for url in headers)} - {""}):
        directory = host_directory(host)
        server = default_server(host)
        if directory in out or (tls.get(host, TLS()).empty() and not headers.get(server)):
            continue
        if host == "*":
            raise FailedPrecondition("machine.registries.config.*.tls: wildcard host TLS "
                                     "configuration is not supported")
        files = []
        root = configure(host, directory, _Entry(server), files)
        files.append(HostsFile("hosts.toml", render(root, [])))
        out[directory] = tuple(files)
    return out


def _layout(registry: str, mirror: Mirror) -> tuple[str, list[str]]:
    """The entries of a mirror's hosts.toml (endpoints, normalized) and its `server`:
    "" (containerd's default), "last" (the last endpoint, moved there: skipFallback) or
    the URL of the registry's own plain-HTTP endpoint."""
    hosts = [_endpoint(e) for e in mirror.endpoints]
    if mirror.skip_fallback and hosts:
        return "last", hosts
    own = next((h for h in hosts if urlsplit(h).scheme == "http"
                and _url_host(registry, h) == registry), "")
    return own, hosts


def _registry_of_fallback(url: str) -> str:
    """The registry whose implicit fallback `server` `url` is (docker.io for
    https://registry-1.docker.io), "" if it is none."""
    host = urlsplit(url).netloc
    registry = "docker.io" if host == "registry-1.docker.io" else host
    return registry if host and default_server(registry) == url else ""


def default_server(registry: str) -> str:
    """The `server` containerd 1.6 uses for a registry when hosts.toml names none:
    https://<default host>, plain HTTP for a loopback one (localhost, 127.x, ::1)."""
    host = default_host(registry)
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    local = name in ("localhost", "::1", "[::1]") or name.startswith("127.")
    return f"{'http' if local else 'https'}://{host}"


@dataclass(frozen=True)
class Endpoint:
    """A URL containerd tries for a registry, in order: an entry of its hosts.toml or the
    `server`."""

    url: str
    override_path: bool = False

    @property
    def host(self) -> str:
        """host[:port]: the name its `machine.registries.config` is looked up by."""
        return urlsplit(self.url).netloc.rpartition("@")[2]

    def api_base(self) -> str:
        """The registry API root containerd speaks to at this endpoint (`.../v2`; the path
        as written when overridePath is set)."""
        parts = urlsplit(self.url)
        path = parts.path.rstrip("/")
        if not self.override_path and not path.endswith("/v2"):
            path += "/v2"
        return f"{parts.scheme}://{parts.netloc}{path}"


def endpoints(mirrors: Mapping[str, Mirror], registry: str) -> list[Endpoint]:
    """What containerd 1.6 tries, in order, for an image of `registry` with the directories
    `generate` writes: the mirror's entries, then its `server` (the registry's own mirror
    or `*`'s, as upstream's RegistryEndpoints picks them); with no mirror the registry's
    default host (plain HTTP for a loopback one, as containerd)."""
    mirror = mirrors.get(registry) or mirrors.get("*")
    if mirror is None:
        return [Endpoint(default_server(registry))]
    root, hosts = _layout(registry, mirror)
    out = [Endpoint(h, mirror.overrides(i)) for i, h in enumerate(hosts)]
    if root == "last":
        return out
    return [*out, Endpoint(root or default_server(registry))]


def write(directory: str, config: HostsConfig) -> None:
    """Replace `directory` with the generated host directories (each file atomically, mode
    0600 from the moment it exists; directories 0700)."""
    if os.path.isdir(directory):
        shutil.rmtree(directory)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    for name, files in config.items():
        d = os.path.join(directory, name)
        os.makedirs(d, mode=0o700, exist_ok=True)
        for f in files:
            write_atomic(os.path.join(d, f.name), f.contents, f.mode)


def from_config(config: Any) -> tuple[dict[str, Mirror], dict[str, TLS]]:
    """The mirrors and decoded TLS settings of a config (None: none): `machine.registries`
    and the RegistryMirrorConfig / RegistryTLSConfig documents, combined as upstream
    (`cri.registries`: a document replaces the v1alpha1 entry of its name)."""
    view = cri.registries(config)
    mirrors = {}
    for host, m in view.mirrors.items():
        flags = tuple(e.override_path for e in m.endpoints)
        uniform = len(set(flags)) <= 1
        mirrors[host] = Mirror(tuple(e.url for e in m.endpoints),
                               bool(flags and flags[0]) if uniform else False,
                               m.skip_fallback, () if uniform else flags)
    tls = {host: TLS(t.ca, t.client_crt, t.client_key, t.insecure_skip_verify)
           for host, t in view.tls.items()}
    return mirrors, tls


def _endpoint(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return endpoint.rstrip("/") if parts.path.strip("/") == "" else endpoint


def _url_host(registry: str, endpoint: str) -> str:
    """host[:port] of an endpoint URL (its TLS settings are looked up by it)."""
    try:
        return urlsplit(endpoint).netloc.rpartition("@")[2]
    except ValueError:
        raise FailedPrecondition(f"machine.registries.mirrors.{registry}.endpoints: "
                                 f"{endpoint!r} is not a URL".replace("'", '"')) from None


_LITERAL = re.compile(r"^[^'\x00-\x08\x0a-\x1f\x7f]*$")


def _string(s: str) -> str:
    """A TOML string as go-toml v2 writes one: literal ('...') when it can be, else basic."""
    if _LITERAL.match(s):
        return f"'{s}'"
    escaped = (s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\t", "\\t").replace("\r", "\\r"))
    escaped = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",
                     lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'
