"""Admin kubeconfig: generated from the cluster's Kubernetes CA, and merged into an existing
kubeconfig the way `talosctl kubeconfig` does it.

The admin certificate is `CN=admin, O=system:masters` signed by `cluster.ca`, valid for
`cluster.adminKubeconfig.certLifetime` (default one year); the cluster entry is named after
`cluster.clusterName` and points at `cluster.controlPlane.endpoint`; user and context are
`admin@<clusterName>`.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import tarfile
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from talos.machinery import goyaml
from talos.machinery.duration import parse_go_duration as go_duration_seconds
from talos.machinery.errors import FailedPrecondition, InvalidArgument
from talos.machinery.pki import CertificateAndKey, CertificateAuthority, IssueOptions

DEFAULT_LIFETIME = dt.timedelta(days=365)
ARCHIVE_MEMBER = "kubeconfig"



def parse_go_duration(value: str) -> dt.timedelta:
    """Go-style durations as the config has them (`87600h0m0s`, `8760h`)."""
    return dt.timedelta(seconds=go_duration_seconds(
        value, "cluster.adminKubeconfig.certLifetime"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def admin_kubeconfig(ca: CertificateAndKey, *, cluster_name: str, endpoint: str,
                     lifetime: dt.timedelta = DEFAULT_LIFETIME,
                     now: dt.datetime | None = None) -> bytes:
    if not endpoint:
        raise FailedPrecondition("cluster.controlPlane.endpoint is not set: the kubeconfig "
                                 "needs the Kubernetes API endpoint")
    if not cluster_name:
        raise FailedPrecondition("cluster.clusterName is not set")
    authority = CertificateAuthority.from_pem(ca, what="cluster.ca")
    pair = authority.issue_key_pair(IssueOptions(
        common_name="admin", organizations=("system:masters",), ttl=lifetime,
        server=False, client=True), now=now)
    context = f"admin@{cluster_name}"
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {
            "server": endpoint, "certificate-authority-data": _b64(ca.crt)}}],
        "users": [{"name": context, "user": {
            "client-certificate-data": _b64(pair.crt),
            "client-key-data": _b64(pair.key)}}],
        "contexts": [{"context": {"cluster": cluster_name, "namespace": "default",
                                  "user": context}, "name": context}],
        "current-context": context,
        "preferences": {},
    }
    return dump(doc)


def dump(doc: dict[str, Any]) -> bytes:
    yaml = YAML()
    yaml.default_flow_style = False
    out = io.BytesIO()
    yaml.dump(doc, out)
    return out.getvalue()


def load(data: bytes, *, source: str) -> dict[str, Any]:
    try:
        doc = YAML(typ="safe").load(data)
    except MarkedYAMLError as exc:
        # the location and the problem only: ruamel's own text quotes the lines (keys)
        raise InvalidArgument(f"{source}: not a valid kubeconfig: "
                              f"{goyaml.describe_error(exc, context=True)}") from None
    except YAMLError:
        raise InvalidArgument(f"{source}: not a valid kubeconfig: not YAML text") from None
    if doc is None:
        return {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [],
                "contexts": [], "current-context": "", "preferences": {}}
    if not isinstance(doc, dict):
        raise InvalidArgument(f"{source}: not a valid kubeconfig (expected a mapping)")
    return doc


def tar_gz(data: bytes, name: str = ARCHIVE_MEMBER) -> bytes:
    """`data` as the only file of a .tar.gz (how Talos streams the kubeconfig)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o600
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def from_tar_gz(blob: bytes, name: str = ARCHIVE_MEMBER) -> bytes:
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            member = tar.extractfile(name)
            if member is None:
                raise InvalidArgument(f"the archive has no file {name!r}")
            return member.read()
    except (tarfile.TarError, KeyError, OSError) as exc:
        raise InvalidArgument(f"the kubeconfig archive is not readable: {exc}") from None


def _named(items: Any) -> list[dict[str, Any]]:
    return [i for i in (items or []) if isinstance(i, dict)]


def merge(existing: dict[str, Any], new: dict[str, Any], *, force: bool = False,
          context_name: str | None = None) -> tuple[dict[str, Any], str]:
    """Merge `new` into `existing` (as talosctl does): the new context becomes current; a
    context of the same name is renamed `<name>-1`, `-2`… unless `force` replaces it.
    Returns the merged config and the context name used."""
    out = dict(existing)
    for key in ("clusters", "users", "contexts"):
        out[key] = _named(out.get(key))
    ctx = _named(new.get("contexts"))[0]
    name = context_name or str(ctx["name"])
    cluster = _named(new.get("clusters"))[0]
    user = _named(new.get("users"))[0]
    taken = {c.get("name") for c in out["contexts"]}
    if name in taken and not force:
        i = 1
        while f"{name}-{i}" in taken:
            i += 1
        name = f"{name}-{i}"
    cluster_name = str(cluster["name"]) if name == ctx["name"] or force else name
    user_name = str(user["name"]) if name == ctx["name"] or force else name
    ctx_body = dict(ctx["context"], cluster=cluster_name, user=user_name)

    def put(key: str, entry: dict[str, Any]) -> None:
        out[key] = [e for e in out[key] if e.get("name") != entry["name"]] + [entry]

    put("clusters", {"name": cluster_name, "cluster": cluster["cluster"]})
    put("users", {"name": user_name, "user": user["user"]})
    put("contexts", {"name": name, "context": ctx_body})
    out["current-context"] = name
    out.setdefault("apiVersion", "v1")
    out.setdefault("kind", "Config")
    return out, name
