"""Replace the secrets of a config document with "******" (what readers may see)."""

from __future__ import annotations

from typing import Any

REDACTED = "******"

#: paths (keys; "*" = every list item / map value) holding secrets, per document kind
_SECRET_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
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
    "VolumeConfig": (("encryption", "keys", "*", "static", "passphrase"),),
    "UserVolumeConfig": (("encryption", "keys", "*", "static", "passphrase"),),
}


def _redact(node: Any, path: tuple[str, ...]) -> None:
    if not path:
        return
    head, rest = path[0], path[1:]
    if head == "*":
        children = list(node.values()) if isinstance(node, dict) else \
            node if isinstance(node, list) else []
        for child in children:
            _redact(child, rest)
        return
    if not isinstance(node, dict) or head not in node:
        return
    if rest:
        _redact(node[head], rest)
    elif node[head] not in (None, ""):
        node[head] = REDACTED


def redact_document(kind: str, raw: Any) -> Any:
    """Redact `raw` (a round-trip node, modified in place) and return it."""
    for path in _SECRET_PATHS.get(kind, ()):
        _redact(raw, path)
    return raw
