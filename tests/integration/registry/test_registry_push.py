"""The cluster registry process (provision/registry.py) and the imager's push
(imager/push.py) against a real Debian docker-registry on a loopback address: a pushed OCI
layout reads back with the same manifest (config and layer digests), a registry that does
not listen fails the push at once with a named error, and stop() leaves no process."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from talos.imager import oci
from talos.imager.errors import ImageBuildError
from talos.imager.push import check_registry, push_layout
from talos.provision import registry
from tests.prerequisites import require


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Path, str, int]]:
    """A registry on a random 127.x.y.z (port 5000 is fixed), stopped afterwards."""
    require("docker-registry")
    address = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.{random.randint(2, 250)}"
    pid = registry.launch(tmp_path, address)
    try:
        assert registry.wait_ready(address, timeout=30), (tmp_path / "registry.log").read_text()
        yield tmp_path, address, pid
    finally:
        registry.stop(pid, str(tmp_path))
    assert not os.path.exists(f"/proc/{pid}/environ") or not registry.is_ours(pid,
                                                                            str(tmp_path))


def test_pushed_layout_reads_back_with_the_same_blobs(running: tuple[Path, str, int]) -> None:
    import oras.provider

    tmp, address, _pid = running
    (tmp / "asset").write_bytes(b"boot asset\n" * 100)
    layout = tmp / "installer.tar"
    oci.make(str(layout), {"vmlinuz-amd64": str(tmp / "asset")}, "installer:v1", "v1", 0)
    ref = f"{registry.address(address)}/siderolabs/installer:v1"

    pushed = push_layout(str(layout), ref, plain_http=True)

    assert pushed.blobs == 2 and pushed.digest.startswith("sha256:")
    manifest = oras.provider.Registry(insecure=True).get_manifest(ref)
    assert manifest["config"]["mediaType"] == oci.MEDIA_CONFIG
    assert [layer["mediaType"] for layer in manifest["layers"]] == [oci.MEDIA_LAYER]
    # pushing again uploads nothing new and names the same manifest
    assert push_layout(str(layout), ref, plain_http=True).digest == pushed.digest


def test_push_to_a_registry_that_does_not_listen_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(ImageBuildError, match=r"registry 127\.0\.0\.1:9 unreachable"):
        check_registry("127.0.0.1:9/talos/installer:v1", plain_http=True)
