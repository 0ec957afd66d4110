"""The `installer` image as an OCI image layout tarball (what `docker save`/`crane` and
containerd's `ctr images import` read): one layer carrying the boot assets under
/usr/install/amd64, as upstream's installer image does, and `SHA256SUMS` (sha256sum's
format) naming each of them: a node that upgrades from this image checks what it writes
against both the layer's digest and these sums. Every JSON document is written with sorted
keys, every time is the build's epoch: the same assets give the same digests. The layer is
streamed through a temporary file (it holds a root filesystem and a UKI, ~250 MB).

What upstream's installer image also carries, the `installer` program that partitions a disk
and writes the assets to it, is not here yet (installing to disk is a later issue)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from datetime import UTC, datetime
from typing import BinaryIO

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"
ASSET_DIR = "usr/install/amd64"
SUMS = "SHA256SUMS"
CHUNK = 1 << 20


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


def _file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def sums(assets: dict[str, str]) -> bytes:
    """sha256sum's output for the assets, sorted by name."""
    return "".join(f"{_file_sha256(assets[name])}  {name}\n"
                   for name in sorted(assets)).encode()


def parse_sums(data: bytes) -> dict[str, str]:
    """{name: "sha256:<hex>"} from a SHA256SUMS file; ValueError on a malformed line."""
    out: dict[str, str] = {}
    for n, line in enumerate(data.decode().splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name or "/" in name:
            raise ValueError(f"{SUMS} line {n} is not '<sha256>  <name>'")
        int(digest, 16)
        out[name] = "sha256:" + digest
    return out


def write_layer(f: BinaryIO, assets: dict[str, str],
                mtime: int) -> None:
    """A tar of the assets ({file name: path here}) and their SHA256SUMS under
    /usr/install/amd64, written to `f`."""
    with tarfile.open(fileobj=f, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        parts = ASSET_DIR.split("/")
        for i in range(1, len(parts) + 1):
            _add(tar, "/".join(parts[:i]) + "/", mtime)
        for name in sorted(assets):
            _add(tar, f"{ASSET_DIR}/{name}", mtime, source=assets[name])
        _add(tar, f"{ASSET_DIR}/{SUMS}", mtime, data=sums(assets))


def layer(assets: dict[str, str], mtime: int) -> bytes:
    buf = io.BytesIO()
    write_layer(buf, assets, mtime)
    return buf.getvalue()


def make(out: str, assets: dict[str, str], ref: str, version: str, mtime: int) -> str:
    """Write the layout tarball; returns the manifest's digest."""
    with tempfile.TemporaryFile(dir=os.path.dirname(os.path.abspath(out))) as layer_file:
        write_layer(layer_file, assets, mtime)
        layer_size = layer_file.tell()
        layer_file.seek(0)
        h = hashlib.sha256()
        for chunk in iter(lambda: layer_file.read(CHUNK), b""):
            h.update(chunk)
        layer_digest = "sha256:" + h.hexdigest()
        created = datetime.fromtimestamp(mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        config = _json({
            "architecture": "amd64", "os": "linux", "created": created,
            "config": {"Labels": {"org.opencontainers.image.version": version}},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            "history": [{"created": created, "created_by": "python -m talos imager"}],
        })
        manifest = _json({
            "schemaVersion": 2, "mediaType": MEDIA_MANIFEST,
            "config": _descriptor(MEDIA_CONFIG, config),
            "layers": [{"mediaType": MEDIA_LAYER, "digest": layer_digest,
                        "size": layer_size}],
            "annotations": {"org.opencontainers.image.created": created},
        })
        mdesc = _descriptor(MEDIA_MANIFEST, manifest)
        mdesc["annotations"] = {"org.opencontainers.image.ref.name": ref,
                                "io.containerd.image.name": ref}
        index = _json({"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": [mdesc]})
        blobs: dict[str, bytes | None] = {
            hashlib.sha256(b).hexdigest(): b for b in (config, manifest)}
        blobs[layer_digest.split(":", 1)[1]] = None
        with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as tar:
            _add(tar, "blobs/", mtime)
            _add(tar, "blobs/sha256/", mtime)
            for digest in sorted(blobs):
                data = blobs[digest]
                if data is not None:
                    _add(tar, f"blobs/sha256/{digest}", mtime, data=data)
                    continue
                info = tarfile.TarInfo(f"blobs/sha256/{digest}")
                info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
                info.mode, info.size = 0o644, layer_size
                layer_file.seek(0)
                tar.addfile(info, layer_file)
            _add(tar, "index.json", mtime, data=index)
            _add(tar, "oci-layout", mtime, data=_json({"imageLayoutVersion": "1.0.0"}))
    return str(mdesc["digest"])
