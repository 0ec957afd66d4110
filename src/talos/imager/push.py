"""Push an OCI image layout tarball (the `installer` image the imager writes) to a registry
with the maintained `oras` client: every blob of the layout's one manifest (config and
layers, uploaded only when the registry does not already hold them), then the manifest
under the reference's tag. The registry's answer names the pushed manifest's digest.

`plain_http` speaks HTTP instead of HTTPS, for a local cluster's registry
(talos.provision.registry), as `oras push --plain-http` does."""

from __future__ import annotations

import json
import os
import socket
import tarfile
import tempfile
from dataclasses import dataclass

from talos.imager.errors import ImageBuildError


@dataclass(frozen=True)
class Pushed:
    ref: str
    digest: str
    blobs: int


def _member(tar: tarfile.TarFile, name: str, archive: str) -> bytes:
    try:
        f = tar.extractfile(name)
    except KeyError:
        f = None
    if f is None:
        raise ImageBuildError(f"{archive}: not an OCI image layout ({name} is missing)")
    with f:
        return f.read()


def _blob_name(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    return f"blobs/{algo}/{hexpart}"


def push_layout(archive: str, ref: str, *, plain_http: bool = False) -> Pushed:
    """Push the layout tarball `archive` as `ref` (HOST[:PORT]/NAME:TAG)."""
    import oras.container
    import oras.provider
    import requests

    try:
        container = oras.container.Container(ref)
    except (ValueError, AttributeError) as e:
        raise ImageBuildError(f"--push {ref}: not an image reference: {e}") from None
    _reachable(container.registry, plain_http)
    registry = oras.provider.Registry(hostname=container.registry, insecure=plain_http)
    try:
        with tarfile.open(archive) as tar:
            index = json.loads(_member(tar, "index.json", archive))
            manifests = index.get("manifests") or []
            if len(manifests) != 1:
                raise ImageBuildError(f"{archive}: index.json names {len(manifests)} "
                                      "manifests, expected 1")
            manifest = json.loads(_member(tar, _blob_name(manifests[0]["digest"]), archive))
            descriptors = [manifest["config"], *manifest.get("layers", [])]
            with tempfile.TemporaryDirectory(prefix="talos-push-") as tmp:
                for desc in descriptors:
                    path = os.path.join(tmp, "blob")
                    with open(path, "wb") as out:
                        out.write(_member(tar, _blob_name(desc["digest"]), archive))
                    resp = registry.upload_blob(path, container, dict(desc))
                    _check(resp, ref, f"blob {desc['digest']}")
                    os.unlink(path)
            resp = registry.upload_manifest(manifest, container)
            _check(resp, ref, "manifest")
    except (OSError, tarfile.TarError, ValueError, KeyError) as e:
        raise ImageBuildError(f"{archive}: cannot read the image layout: {e}") from None
    except requests.RequestException:
        raise ImageBuildError(f"push {ref}: registry {container.registry} "
                              "unreachable") from None
    return Pushed(ref=ref, digest=resp.headers.get("Docker-Content-Digest", ""),
                  blobs=len(descriptors))


def check_registry(ref: str, plain_http: bool = False) -> None:
    """Fail fast, before any build, on a registry that does not listen (oras itself
    retries for minutes)."""
    import oras.container
    try:
        host = oras.container.Container(ref).registry
    except (ValueError, AttributeError) as e:
        raise ImageBuildError(f"--push {ref}: not an image reference: {e}") from None
    _reachable(host, plain_http)


def _reachable(host: str, plain_http: bool) -> None:
    name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    try:
        with socket.create_connection((name, int(port) if port.isdigit() else
                                       (80 if plain_http else 443)), timeout=5):
            pass
    except OSError as e:
        raise ImageBuildError(f"push: registry {host} unreachable: "
                              f"{e.strerror or 'timed out'}") from None


def _check(resp: object, ref: str, what: str) -> None:
    status = getattr(resp, "status_code", 0)
    if status not in (200, 201, 202):
        raise ImageBuildError(f"push {ref}: the registry refused the {what} "
                              f"(HTTP {status})")
