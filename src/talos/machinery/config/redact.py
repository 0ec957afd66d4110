"""Secrets of a machine config: which fields hold them, and replacing them with "******".

One place for every reader of a config that must not see secrets: apid (callers without
os:admin), the support bundle, apply-config's dry-run diff, and error messages (which must
never echo a secret value; see `is_secret_path`).

The secret fields are Talos's (v1.11 `Config.Redact` and the `Redact` methods of the other
document kinds): the value is replaced, the structure kept; empty values stay empty. As a
safety net `redact_yaml` also replaces any non-empty string under a secret-looking key
(`SECRET_KEYS`) in documents or places the table does not know.

This module imports no config model (apid imports it and must start fast).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from talos.machinery.config.types import REDACTION_MARKER

REDACTED = REDACTION_MARKER

#: keys whose string values are treated as secrets anywhere (the safety net)
SECRET_KEYS = frozenset({
    "key", "token", "secret", "aescbcEncryptionSecret", "secretboxEncryptionSecret",
    "privateKey", "presharedKey", "bootstrapToken", "password", "apiToken", "passphrase",
    "identityToken", "uniqueToken", "auth",
})

_ENCRYPTION_KEYS = ("encryption", "keys", "*", "static", "passphrase")

#: paths (keys; "*" = every list item / map value) holding secrets, per document kind
SECRET_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "v1alpha1": (
        ("machine", "token"),
        ("machine", "ca", "key"),
        ("machine", "network", "interfaces", "*", "wireguard", "privateKey"),
        ("machine", "network", "interfaces", "*", "vip", "equinixMetal", "apiToken"),
        ("machine", "network", "interfaces", "*", "vip", "hcloud", "apiToken"),
        ("machine", "network", "interfaces", "*", "vlans", "*", "vip", "equinixMetal",
         "apiToken"),
        ("machine", "network", "interfaces", "*", "vlans", "*", "vip", "hcloud", "apiToken"),
        ("machine", "registries", "config", "*", "auth", "password"),
        ("machine", "registries", "config", "*", "auth", "auth"),
        ("machine", "registries", "config", "*", "auth", "identityToken"),
        ("machine", "registries", "config", "*", "tls", "clientIdentity", "key"),
        ("machine", "systemDiskEncryption", "*", "keys", "*", "static", "passphrase"),
        ("cluster", "secret"),
        ("cluster", "token"),
        ("cluster", "aescbcEncryptionSecret"),
        ("cluster", "secretboxEncryptionSecret"),
        ("cluster", "ca", "key"),
        ("cluster", "aggregatorCA", "key"),
        ("cluster", "serviceAccount", "key"),
        ("cluster", "etcd", "ca", "key"),
    ),
    "VolumeConfig": (_ENCRYPTION_KEYS,),
    "UserVolumeConfig": (_ENCRYPTION_KEYS,),
    "RawVolumeConfig": (_ENCRYPTION_KEYS,),
    "SwapVolumeConfig": (_ENCRYPTION_KEYS,),
    "SideroLinkConfig": (("uniqueToken",),),
    "WireguardConfig": (("privateKey",), ("peers", "*", "presharedKey")),
    "HCloudVIPConfig": (("apiToken",),),
    "RegistryAuthConfig": (("password",), ("auth",), ("identityToken",)),
    "RegistryTLSConfig": (("clientIdentity", "key"),),
    "DiscoveryIdentityConfig": (("secret",),),
}

#: URL fields whose query parameter `jointoken` is a secret (SideroLink's join token)
_URL_TOKEN_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "SideroLinkConfig": (("apiUrl",),),
}

#: how a secret is replaced: a string, or f(path, old value) -> string
Replacement = str | Callable[[tuple[str | int, ...], str], str]


def document_kind(raw: Any) -> str:
    """The kind of a parsed document ("v1alpha1" for the main one)."""
    if isinstance(raw, dict) and isinstance(raw.get("kind"), str):
        return str(raw["kind"])
    return "v1alpha1"


def _walk(node: Any, pattern: tuple[str, ...], at: tuple[str | int, ...],
          visit: Callable[[Any, str | int, tuple[str | int, ...]], None]) -> None:
    """Call visit(parent, key, path) for every place `pattern` names that exists."""
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        keys: list[str | int] = list(node) if isinstance(node, dict) else \
            list(range(len(node))) if isinstance(node, list) else []
    elif isinstance(node, dict) and head in node:
        keys = [head]
    else:
        return
    for key in keys:
        if rest:
            _walk(node[key], rest, (*at, key), visit)
        else:
            visit(node, key, (*at, key))


def _replace_with(replacement: Replacement) -> Callable[[Any, str | int, tuple[str | int, ...]],
                                                          None]:
    def visit(parent: Any, key: str | int, path: tuple[str | int, ...]) -> None:
        value = parent[key]
        if value is None or value == "":
            return
        if isinstance(replacement, str):
            parent[key] = replacement
        elif isinstance(value, dict | list):
            parent[key] = REDACTED
        else:
            parent[key] = replacement(path, str(value))
    return visit


def _redact_url_token(parent: Any, key: str | int, path: tuple[str | int, ...]) -> None:
    value = parent[key]
    if not isinstance(value, str) or "jointoken" not in value:
        return
    try:
        parts = urlsplit(value)
        query = [(k, REDACTED if k == "jointoken" else v)
                 for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        parent[key] = urlunsplit(parts._replace(query=urlencode(query, safe="*")))
    except ValueError:
        parent[key] = REDACTED


def redact_document(kind: str, raw: Any, replacement: Replacement = REDACTED) -> Any:
    """Redact the secret fields of `raw` (a parsed document, modified in place); returns it."""
    for pattern in SECRET_PATHS.get(kind, ()):
        _walk(raw, pattern, (), _replace_with(replacement))
    for pattern in _URL_TOKEN_PATHS.get(kind, ()):
        _walk(raw, pattern, (), _redact_url_token)
    return raw


def redact_secret_keys(node: Any) -> int:
    """The safety net: replace every non-empty string under a `SECRET_KEYS` key, at any
    depth (in place). Returns how many values were replaced."""
    changed = 0
    if isinstance(node, dict):
        for k in list(node):
            v = node[k]
            if k in SECRET_KEYS and isinstance(v, str) and v and v not in (REDACTED, CHANGED):
                node[k] = REDACTED
                changed += 1
            else:
                changed += redact_secret_keys(v)
    elif isinstance(node, list):
        for item in node:
            changed += redact_secret_keys(item)
    return changed


def redact_yaml(text: str | bytes) -> str:
    """A machine config (YAML, any documents) with every secret value replaced by "******",
    comments and layout kept. Text that does not parse is replaced whole: nothing leaks."""
    from talos.machinery.config import yamlio
    from talos.machinery.errors import InvalidConfig

    try:
        docs, style = yamlio.parse_all(text, source="config")
    except InvalidConfig:
        return REDACTED
    for doc in docs:
        redact_document(document_kind(doc), doc)
        redact_secret_keys(doc)
    return yamlio.dump_all([d for d in docs if d is not None], style)


def is_secret_path(kind: str, path: Sequence[str | int]) -> bool:
    """Whether the field at `path` of a `kind` document holds a secret, is inside one, or
    is where secrets are kept (`machine.ca`: a value put there by mistake may be the key).
    Errors about such a field must not show its value."""
    if path and isinstance(path[-1], str) and path[-1] in SECRET_KEYS:
        return True
    for pattern in (*SECRET_PATHS.get(kind, ()), *_URL_TOKEN_PATHS.get(kind, ())):
        if all(p == "*" or p == str(q) for p, q in zip(pattern, path, strict=False)):
            return True
    return False


def secret_values(text: str | bytes) -> set[str]:
    """Every secret value of a config (for scrubbing text that might quote one); empty if
    the text does not parse."""
    from talos.machinery.config import yamlio
    from talos.machinery.errors import InvalidConfig

    try:
        docs, _ = yamlio.parse_all(text, source="config")
    except InvalidConfig:
        return set()
    found: set[str] = set()

    def keep(path: tuple[str | int, ...], value: str) -> str:
        found.add(value)
        return value

    for doc in docs:
        redact_document(document_kind(doc), doc, keep)
    return {v for v in found if len(v) >= 4}


def scrub(text: str, secrets: set[str]) -> str:
    """`text` with every occurrence of one of `secrets` replaced by "******"."""
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


#: what a secret that differs from the old config's becomes in `redact_pair`
CHANGED = f"{REDACTED} (changed)"


def redact_pair(old: str | bytes | None, new: str | bytes) -> tuple[str, str]:
    """Two configs redacted for a diff: a secret reads "******" on both sides when it is
    unchanged and "****** (changed)" on the new side when it differs (so a changed secret
    still shows in the diff, its value never does)."""
    from talos.machinery.config import yamlio
    from talos.machinery.errors import InvalidConfig

    seen: dict[tuple[str, str, tuple[str | int, ...]], str] = {}

    def ident(doc: Any) -> tuple[str, str]:
        return (document_kind(doc), str(doc.get("name", "")) if isinstance(doc, dict) else "")

    def redact_all(text: str | bytes, replace: Callable[[tuple[str, str]], Replacement]
                   ) -> str:
        try:
            docs, style = yamlio.parse_all(text, source="config")
        except InvalidConfig:
            return REDACTED + "\n"
        for doc in docs:
            redact_document(document_kind(doc), doc, replace(ident(doc)))
            redact_secret_keys(doc)
        return yamlio.dump_all([d for d in docs if d is not None], style)

    def remember(doc: tuple[str, str]) -> Replacement:
        def f(path: tuple[str | int, ...], value: str) -> str:
            seen[(*doc, path)] = value
            return REDACTED
        return f

    def compare(doc: tuple[str, str]) -> Replacement:
        def f(path: tuple[str | int, ...], value: str) -> str:
            return REDACTED if seen.get((*doc, path)) == value else CHANGED
        return f

    old_text = redact_all(old, remember) if old else ""
    return old_text, redact_all(new, compare if old else lambda _: REDACTED)
