"""`cluster create --image VALUE` for sandbox nodes: what VALUE may be, what the node's boot
record says of the image, and the errors that name the problem."""

from __future__ import annotations

import hashlib
import json

import pytest

from talos.imager import build as imager_build
from talos.machinery.errors import InvalidArgument
from talos.provision import image


def _quiet(_msg: str) -> None:
    pass


def test_an_imager_output_directory_gives_its_rootfs_with_tag_and_digest(tmp_path):
    data = b"not really a squashfs"
    (tmp_path / image.ROOTFS).write_bytes(data)
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "v9.9.9"}))
    boot = image.sandbox_boot_image(str(tmp_path), _quiet)
    assert boot.rootfs == tmp_path / image.ROOTFS
    assert boot.image.tag == "v9.9.9"
    assert boot.image.digest == "sha256:" + hashlib.sha256(data).hexdigest()


def test_a_sqsh_file_without_a_manifest_has_an_unknown_tag(tmp_path):
    path = tmp_path / "root.sqsh"
    path.write_bytes(b"x")
    boot = image.sandbox_boot_image(str(path), _quiet)
    assert boot.rootfs == path and boot.image.tag == "unknown"


def test_the_default_ref_is_this_versions_cached_image(tmp_path, monkeypatch):
    (tmp_path / image.ROOTFS).write_bytes(b"y")
    built = imager_build.Result(digest="d" * 64, cached=True, directory=str(tmp_path),
                                manifest={}, seconds=0.0)
    monkeypatch.setattr(imager_build, "build", lambda: built)
    said: list[str] = []
    boot = image.sandbox_boot_image(image.DEFAULT_REF, said.append)
    assert boot.rootfs == tmp_path / image.ROOTFS
    assert any("from the cache" in m for m in said)


@pytest.mark.parametrize("kind", ["missing", "empty dir", "other file"])
def test_values_that_are_no_image_are_refused_naming_the_option_and_what_fits(tmp_path, kind):
    value = tmp_path / "nothing"
    if kind == "empty dir":
        value.mkdir()
    elif kind == "other file":
        value = tmp_path / "disk.raw"
        value.write_bytes(b"z")
    with pytest.raises(InvalidArgument) as err:
        image.sandbox_boot_image(str(value), _quiet)
    msg = str(err.value)
    assert msg.startswith(f"--image {value}: ")
    assert ("rootfs-amd64.sqsh is missing" in msg if kind == "empty dir"
            else image.DEFAULT_REF in msg)
