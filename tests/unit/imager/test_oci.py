"""The installer image archive is a valid OCI image layout, the same bytes for the same
assets."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

from talos.imager import oci


def _make(tmp_path, name: str) -> str:
    asset = tmp_path / "vmlinuz"
    asset.write_bytes(b"kernel")
    out = str(tmp_path / name)
    oci.make(out, {"vmlinuz": str(asset)}, "ghcr.io/siderolabs/installer:v0", "v0", 1700000000)
    return out


def test_the_same_assets_give_the_same_archive(tmp_path):
    a, b = _make(tmp_path, "a.tar"), _make(tmp_path, "b.tar")
    assert Path(a).read_bytes() == Path(b).read_bytes()


def test_index_manifest_config_and_layer_are_linked_by_digest(tmp_path):
    with tarfile.open(_make(tmp_path, "i.tar")) as tar:
        def blob(digest: str) -> bytes:
            data = tar.extractfile(f"blobs/sha256/{digest.split(':', 1)[1]}").read()
            assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
            return data

        assert json.loads(tar.extractfile("oci-layout").read()) == {
            "imageLayoutVersion": "1.0.0"}
        index = json.loads(tar.extractfile("index.json").read())
        desc = index["manifests"][0]
        assert desc["annotations"]["org.opencontainers.image.ref.name"].endswith(":v0")
        manifest = json.loads(blob(desc["digest"]))
        config = json.loads(blob(manifest["config"]["digest"]))
        layer = blob(manifest["layers"][0]["digest"])
        assert config["rootfs"]["diff_ids"] == [manifest["layers"][0]["digest"]]
        assert config["created"] == "2023-11-14T22:13:20Z"
    import io

    with tarfile.open(fileobj=io.BytesIO(layer)) as inner:
        member = inner.getmember("usr/install/amd64/vmlinuz")
        assert inner.extractfile(member).read() == b"kernel"
        assert member.mtime == 1700000000 and member.uid == 0
