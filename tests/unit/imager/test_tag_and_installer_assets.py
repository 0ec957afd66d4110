"""`imager --tag`: the tag is written into the image's package copy and os-release (so it is
in the build's digest); the installer layer carries SHA256SUMS of its assets."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from talos.imager import cli, oci, rootfs
from talos.imager.plan import Plan


def _plan(tag: str) -> Plan:
    plan = Plan()
    rootfs.skeleton(plan, tag)
    rootfs.version_tag(plan, tag)
    return plan


def test_a_tag_lands_in_os_release_and_the_packages_build_tag() -> None:
    plan = _plan("v9.9.9-upgrade")
    assert plan.entries[rootfs.BUILD_TAG].data == b"v9.9.9-upgrade\n"
    assert b"VERSION_ID=v9.9.9-upgrade\n" in (plan.entries["/etc/os-release"].data or b"")
    assert rootfs.BUILD_TAG == "/usr/lib/python3/dist-packages/talos/machinery/build-tag"


def test_two_tags_give_two_build_digests() -> None:
    assert _plan("v1").digest() != _plan("v2").digest()


def test_a_tag_that_is_not_an_oci_tag_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--tag", "v1 beta"])
    assert exc.value.code == 2
    assert "'v1 beta' is not a version tag" in capsys.readouterr().err


def test_the_installer_layer_carries_sha256sums_of_its_assets(tmp_path: Path) -> None:
    (tmp_path / "rootfs.sqsh").write_bytes(b"root")
    (tmp_path / "talos.efi").write_bytes(b"uki")
    assets = {n: str(tmp_path / n) for n in ("rootfs.sqsh", "talos.efi")}
    with tarfile.open(fileobj=io.BytesIO(oci.layer(assets, 0))) as tar:
        f = tar.extractfile(f"{oci.ASSET_DIR}/{oci.SUMS}")
        assert f is not None
        sums = oci.parse_sums(f.read())
    assert sums == {"rootfs.sqsh": "sha256:" + hashlib.sha256(b"root").hexdigest(),
                    "talos.efi": "sha256:" + hashlib.sha256(b"uki").hexdigest()}


def test_a_malformed_sums_line_is_named() -> None:
    with pytest.raises(ValueError, match="SHA256SUMS line 2"):
        oci.parse_sums(b"%s  a\nnot a sum\n" % (b"0" * 64))
