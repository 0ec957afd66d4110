"""The talosctl client configuration file (talosconfig), as Talos defines it.

```yaml
context: my-cluster
contexts:
    my-cluster:
        endpoints: [10.5.0.2]
        nodes: [10.5.0.2]        # omitted when empty
        ca: <base64 PEM>         # the OS CA
        crt: <base64 PEM>        # the client certificate (roles in Subject O)
        key: <base64 PEM>
```

Lookup order: `--talosconfig PATH`, then `$TALOSCONFIG`, then `~/.talos/config`.
Merging renames a clashing context `name` to `name-1`, `name-2`, … like Talos.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from talos.machinery import goyaml
from talos.machinery.atomic import write_atomic
from talos.machinery.errors import (
    FailedPrecondition,
    InvalidArgument,
    InvalidConfig,
    NotFound,
    Problem,
)
from talos.machinery.pki.certificate import (
    CertificateAndKey,
    decode_base64,
    encode_base64,
    load_certificate,
)
from talos.machinery.pki.tls import is_grpc_capable

ENV_VAR = "TALOSCONFIG"
_CONTEXT_FIELDS = ("endpoints", "nodes", "ca", "crt", "key", "cluster", "auth", "target")


def default_path() -> Path:
    return Path(os.path.expanduser("~")) / ".talos" / "config"


def resolve_path(explicit: str | os.PathLike[str] | None = None,
                 env: Mapping[str, str] | None = None) -> Path:
    """`--talosconfig`, else `$TALOSCONFIG`, else `~/.talos/config`."""
    if explicit:
        return Path(explicit)
    environ = os.environ if env is None else env
    if environ.get(ENV_VAR):
        return Path(environ[ENV_VAR])
    return default_path()


@dataclass(frozen=True)
class Context:
    """Credentials and targets for one cluster."""

    endpoints: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    ca: str = ""
    crt: str = ""
    key: str = ""
    cluster: str = ""
    #: fields we keep but do not interpret (e.g. `auth`), written back unchanged
    extra: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_pems(cls, *, endpoints: tuple[str, ...] = (), nodes: tuple[str, ...] = (),
                  ca: bytes, client: CertificateAndKey) -> Context:
        return cls(endpoints=endpoints, nodes=nodes, ca=encode_base64(ca),
                   crt=encode_base64(client.crt), key=encode_base64(client.key))

    @property
    def ca_pem(self) -> bytes:
        return decode_base64(self.ca, what="ca") if self.ca else b""

    @property
    def client(self) -> CertificateAndKey:
        return CertificateAndKey(decode_base64(self.crt, what="crt") if self.crt else b"",
                                 decode_base64(self.key, what="key") if self.key else b"")

    def require_grpc_capable(self, name: str = "") -> None:
        """Raise FailedPrecondition if the CA or the client certificate uses Ed25519 (as
        upstream Talos talosconfigs do): grpcio cannot use them. Says how to regenerate."""
        where = f"talosconfig context {name!r}: " if name else ""
        if self.ca:
            ca = load_certificate(self.ca_pem, what=f"{where}ca")
            if not is_grpc_capable(ca):
                raise FailedPrecondition(
                    f"{where}the OS CA uses Ed25519, which gRPC cannot serve here; regenerate "
                    "with `talosctl gen secrets` (ECDSA P-256)")
        if self.crt:
            crt = load_certificate(self.client.crt, what=f"{where}crt")
            if not is_grpc_capable(crt):
                raise FailedPrecondition(
                    f"{where}the client certificate uses Ed25519, which gRPC cannot use here; "
                    "regenerate the talosconfig with `talosctl gen config` (ECDSA P-256)")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"endpoints": list(self.endpoints)}
        if self.nodes:
            out["nodes"] = list(self.nodes)
        for name in ("ca", "crt", "key", "cluster"):
            value = getattr(self, name)
            if value:
                out[name] = value
        out.update(dict(self.extra))
        return out


@dataclass(frozen=True)
class Talosconfig:
    """A whole talosconfig: the current context name and every context by name."""

    context: str = ""
    contexts: Mapping[str, Context] = field(default_factory=dict)

    # ---- parsing -------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, text: str | bytes, *, source: str = "<talosconfig>") -> Talosconfig:
        data = goyaml.load(text, source=source)
        if data is None:
            return cls()
        problems: list[Problem] = []
        if not isinstance(data, dict):
            raise InvalidConfig([Problem("", "expected a mapping with context and contexts")],
                                source=source)
        for key in data:
            if key not in ("context", "contexts"):
                problems.append(Problem(str(key), "unknown field (expected context, contexts)"))
        current = data.get("context") or ""
        if not isinstance(current, str):
            problems.append(Problem("context", "expected a string"))
            current = ""
        raw_contexts = data.get("contexts") or {}
        contexts: dict[str, Context] = {}
        if not isinstance(raw_contexts, dict):
            problems.append(Problem("contexts", "expected a mapping of context names"))
            raw_contexts = {}
        for name, raw in raw_contexts.items():
            path = f"contexts.{name}"
            if raw is None:
                raw = {}
            if not isinstance(raw, dict):
                problems.append(Problem(path, "expected a mapping"))
                continue
            ctx = _parse_context(raw, path, problems)
            if ctx is not None:
                contexts[str(name)] = ctx
        if problems:
            raise InvalidConfig(problems, source=source)
        return cls(context=current, contexts=contexts)

    def to_dict(self) -> dict[str, Any]:
        return {"context": self.context,
                "contexts": {name: ctx.to_dict() for name, ctx in self.contexts.items()}}

    def to_yaml(self) -> str:
        return goyaml.dump(self.to_dict())

    # ---- files -------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, missing_ok: bool = True) -> Talosconfig:
        """Read a talosconfig; a missing file is an empty config (as Talos creates one)."""
        p = Path(path)
        try:
            text = p.read_bytes()
        except FileNotFoundError:
            if missing_ok:
                return cls()
            raise NotFound(f"talosconfig {str(p)!r} does not exist") from None
        except OSError as e:
            raise InvalidArgument(f"cannot read talosconfig {str(p)!r}: {e.strerror}") from None
        return cls.from_yaml(text, source=str(p))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Atomic write, mode 0600 (it holds a private key); parent created 0700."""
        write_atomic(path, self.to_yaml(), 0o600)

    # ---- queries and edits (each returns a new Talosconfig) -------------------------

    def get(self, name: str | None = None) -> Context:
        """The named context, or the current one; clear errors when unset or unknown."""
        name = name or self.context
        if not name:
            raise NotFound("no context is set")
        try:
            return self.contexts[name]
        except KeyError:
            raise NotFound(f"context {name!r} is not defined") from None

    def with_context(self, name: str, ctx: Context) -> Talosconfig:
        contexts = dict(self.contexts)
        contexts[name] = ctx
        return replace(self, contexts=contexts)

    def without_context(self, name: str) -> Talosconfig:
        contexts = dict(self.contexts)
        contexts.pop(name, None)
        return replace(self, contexts=contexts)

    def use(self, name: str) -> Talosconfig:
        self.get(name)
        return replace(self, context=name)

    def merge(self, other: Talosconfig) -> tuple[Talosconfig, list[tuple[str, str]]]:
        """Add `other`'s contexts, renaming clashes `name-N`; its current context wins.

        Returns the merged config and the renames as (from, to) pairs.
        """
        contexts = dict(self.contexts)
        mapped: dict[str, str] = {}
        renames: list[tuple[str, str]] = []
        for name, ctx in other.contexts.items():
            merged = name
            i = 1
            while merged in contexts:
                merged = f"{name}-{i}"
                i += 1
            mapped[name] = merged
            if merged != name:
                renames.append((name, merged))
            contexts[merged] = ctx
        current = self.context
        if other.context:
            current = mapped.get(other.context, other.context)
        return Talosconfig(context=current, contexts=contexts), renames


def _strings(raw: Any, path: str, problems: list[Problem]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,)
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        problems.append(Problem(path, "expected a list of strings"))
        return ()
    return tuple(raw)


def _parse_context(raw: dict[str, Any], path: str, problems: list[Problem]) -> Context | None:
    before = len(problems)
    for key in raw:
        if key not in _CONTEXT_FIELDS:
            problems.append(Problem(f"{path}.{key}", "unknown field (expected one of "
                                    + ", ".join(_CONTEXT_FIELDS[:6]) + ")"))
    endpoints = _strings(raw.get("endpoints"), f"{path}.endpoints", problems)
    target = raw.get("target")  # deprecated single endpoint, upgraded as Talos does
    if isinstance(target, str) and target:
        endpoints = (*endpoints, target)
    nodes = _strings(raw.get("nodes"), f"{path}.nodes", problems)
    values: dict[str, str] = {}
    for name in ("ca", "crt", "key", "cluster"):
        value = raw.get(name) or ""
        if not isinstance(value, str):
            problems.append(Problem(f"{path}.{name}", "expected a string"))
            continue
        if value and name != "cluster":
            try:
                decode_base64(value, what=f"{path}.{name}")
            except InvalidArgument as e:
                problems.append(Problem("", str(e)))
        values[name] = value
    extra = tuple((k, raw[k]) for k in ("auth",) if raw.get(k))
    if len(problems) != before:
        return None
    return Context(endpoints=endpoints, nodes=nodes, extra=extra, **values)
