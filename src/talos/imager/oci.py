"""The `installer` image as an OCI image layout tarball (what `docker save`/`crane` and
containerd's `ctr images import` read): one layer carrying the boot assets under
/usr/install/amd64, as upstream's installer image does. Every JSON document is written with
sorted keys, every time is the build's epoch: the same assets give the same digests.

What upstream's installer image also carries, the `installer` program that partitions a disk
and writes the assets to it, is not here yet (installing to disk is a later issue)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from datetime import UTC, datetime

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"
ASSET_DIR = "usr/install/amd64"


def _json(doc: object) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _descriptor(media: str, blob: bytes) -> dict[str, object]:
    return {"mediaType": media, "digest": "sha256:" + hashlib.sha256(blob).hexdigest(),
            "size": len(blob)}


def _add(tar: tarfile.TarFile, name: str, mtime: int, data: bytes | None = None,
         source: str | None = None, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
    if data is None and source is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
        return
    info.mode = mode
    if source is not None:
        info.size = os.path.getsize(source)
        with open(source, "rb") as f:
            tar.addfile(info, f)
    else:
        assert data is not None
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def layer(assets: dict[str, str], mtime: int) -> bytes:
    """A tar of the assets ({file name: path here}) under /usr/install/amd64."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        parts = ASSET_DIR.split("/")
        for i in range(1, len(parts) + 1):
            _add(tar, "/".join(parts[:i]) + "/", mtime)
        for name in sorted(assets):
            _add(tar, f"{ASSET_DIR}/{name}", mtime, source=assets[name])
    return buf.getvalue()


def make(out: str, assets: dict[str, str], ref: str, version: str, mtime: int) -> str:
    """Write the layout tarball; returns the manifest's digest."""
    layer_blob = layer(assets, mtime)
    created = datetime.fromtimestamp(mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    config = _json({
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {"Labels": {"org.opencontainers.image.version": version}},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(layer_blob).hexdigest()]},
        "history": [{"created": created, "created_by": "python -m talos imager"}],
    })
    manifest = _json({
        "schemaVersion": 2, "mediaType": MEDIA_MANIFEST,
        "config": _descriptor(MEDIA_CONFIG, config),
        "layers": [_descriptor(MEDIA_LAYER, layer_blob)],
        "annotations": {"org.opencontainers.image.created": created},
    })
    mdesc = _descriptor(MEDIA_MANIFEST, manifest)
    mdesc["annotations"] = {"org.opencontainers.image.ref.name": ref,
                            "io.containerd.image.name": ref}
    index = _json({"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": [mdesc]})
    blobs = {hashlib.sha256(b).hexdigest(): b for b in (config, manifest, layer_blob)}
    with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as tar:
        _add(tar, "blobs/", mtime)
        _add(tar, "blobs/sha256/", mtime)
        for digest in sorted(blobs):
            _add(tar, f"blobs/sha256/{digest}", mtime, data=blobs[digest])
        _add(tar, "index.json", mtime, data=index)
        _add(tar, "oci-layout", mtime, data=_json({"imageLayoutVersion": "1.0.0"}))
    return str(mdesc["digest"])
