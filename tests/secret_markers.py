"""Marker secret values for the tests that check no secret reaches an error, log or diff.

`MARKERS` maps every secret field of a machine config (Talos v1.11's `Config.Redact` list
for v1alpha1, and the multi-document kinds' `Redact` fields) to a distinctive value;
`marked_config()` is a generated controlplane config carrying all of them.
`assert_no_secret()` fails naming the field whose value leaked (never the value itself).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from ruamel.yaml import YAML

#: v1alpha1 secret field -> marker value (tokens keep the bootstrap token format)
MARKERS: dict[str, str] = {
    "machine.token": "mkmach.mkmachinetoken01",
    "machine.ca.key": "TUstbWFjaGluZS1jYS1rZXktc2VjcmV0",
    "machine.registries.config.reg.auth.password": "MK-registry-password-secret",
    "machine.registries.config.reg.auth.auth": "TUstcmVnaXN0cnktYXV0aC1zZWNyZXQ=",
    "machine.registries.config.reg.auth.identityToken": "MK-registry-identity-token",
    "machine.registries.config.reg.tls.clientIdentity.key": "TUstcmVnaXN0cnktdGxzLWtleQ==",
    "machine.network.interfaces[0].wireguard.privateKey":
        "TUstd2lyZWd1YXJkLXByaXZhdGUta2V5LXNlY3JldCE=",  # 32 bytes, as validation wants
    "machine.network.interfaces[1].vip.hcloud.apiToken": "MK-hcloud-api-token-secret",
    "machine.network.interfaces[1].vip.equinixMetal.apiToken": "MK-equinix-api-token-sec",
    "machine.network.interfaces[1].vlans[0].vip.hcloud.apiToken": "MK-vlan-hcloud-api-token",
    "machine.systemDiskEncryption.state.keys[0].static.passphrase": "MK-disk-passphrase-sec",
    "cluster.secret": "TUstY2x1c3Rlci1zZWNyZXQtdmFsdWU=",
    "cluster.token": "mkclus.mkclustertoken01",
    "cluster.aescbcEncryptionSecret": "TUstYWVzY2JjLWVuY3J5cHRpb24tc2Vj",
    "cluster.secretboxEncryptionSecret": "TUstc2VjcmV0Ym94LWVuY3J5cHRpb24=",
    "cluster.ca.key": "TUstY2x1c3Rlci1jYS1rZXktc2VjcmV0",
    "cluster.aggregatorCA.key": "TUstYWdncmVnYXRvci1jYS1rZXktc2Vj",
    "cluster.serviceAccount.key": "TUstc2VydmljZS1hY2NvdW50LWtleQ==",
    "cluster.etcd.ca.key": "TUstZXRjZC1jYS1rZXktc2VjcmV0LXg=",
}

#: the multi-document kinds' secrets (SideroLink's join token sits in its API URL)
DOC_MARKERS: dict[str, str] = {
    "SideroLinkConfig.apiUrl.jointoken": "MK-siderolink-join-token",
    "UserVolumeConfig.encryption.keys[0].static.passphrase": "MK-user-volume-passphrase",
}

ALL_MARKERS: dict[str, str] = {**MARKERS, **DOC_MARKERS}


def _set(doc: dict[str, Any], dotted: str, value: str) -> None:
    """Set `a.b[0].c` in nested dicts/lists, creating what is missing."""
    parts: list[str | int] = []
    for piece in dotted.split("."):
        name, _, rest = piece.partition("[")
        parts.append(name)
        if rest:
            parts += [int(i) for i in rest.rstrip("]").split("][")]
    node: Any = doc
    for here, nxt in itertools.pairwise(parts):
        empty: Any = [] if isinstance(nxt, int) else {}
        if isinstance(here, int):
            while len(node) <= here:
                node.append({} if not isinstance(nxt, int) else [])
            node = node[here]
        else:
            node = node.setdefault(here, empty)
    last = parts[-1]
    node[last] = value


def marked_v1alpha1(base: str) -> str:
    """`base` (a generated v1alpha1 config) with every secret field set to its marker."""
    y = YAML(typ="safe", pure=True)
    doc = y.load(base)
    for dotted, value in MARKERS.items():
        _set(doc, dotted, value)
    interfaces = doc["machine"]["network"]["interfaces"]
    interfaces[0].update(interface="wg0")
    interfaces[1].update(interface="eth0")
    interfaces[1]["vip"].update(ip="10.5.0.100")
    interfaces[1]["vlans"][0].update(vlanId=10)
    interfaces[1]["vlans"][0]["vip"].update(ip="10.6.0.100")
    doc["machine"]["systemDiskEncryption"]["state"].update(provider="luks2")
    doc["machine"]["systemDiskEncryption"]["state"]["keys"][0].update(slot=0)
    out = io.StringIO()
    YAML().dump(doc, out)
    return out.getvalue()


def marked_documents() -> str:
    """The multi-document kinds carrying their markers."""
    passphrase = DOC_MARKERS["UserVolumeConfig.encryption.keys[0].static.passphrase"]
    return (
        "---\napiVersion: v1alpha1\nkind: SideroLinkConfig\n"
        f"apiUrl: https://siderolink.example.com:8099?jointoken="
        f"{DOC_MARKERS['SideroLinkConfig.apiUrl.jointoken']}\n"
        "---\napiVersion: v1alpha1\nkind: UserVolumeConfig\nname: data\n"
        "provisioning:\n  diskSelector:\n    match: system_disk\n  minSize: 1GiB\n"
        "encryption:\n  provider: luks2\n  keys:\n    - slot: 0\n      static:\n"
        f"        passphrase: {passphrase}\n"
    )


def assert_no_secret(text: str, secrets: Mapping[str, str] | Iterable[tuple[str, str]],
                     *, what: str) -> None:
    """Fail naming the secret fields whose values appear in `text` (and never the values)."""
    pairs = secrets.items() if isinstance(secrets, Mapping) else secrets
    leaked = sorted({name for name, value in pairs if value and value in text})
    assert not leaked, f"{what}: the values of {', '.join(leaked)} appear in it"
    for sign in ("Traceback", "{'", "<class ", "Error(", "object at 0x"):
        assert sign not in text, f"{what}: a Python repr/traceback ({sign!r}) in it"
