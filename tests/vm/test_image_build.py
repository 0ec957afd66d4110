"""The imager's output: reproducible, cached by its inputs, and shipping only the
executables on its allowlist."""

from __future__ import annotations

import json
import os

import pytest

from talos.imager import build as imager_build
from talos.imager import executables
from tests.vm.conftest import IMAGE_TOOLS

pytestmark = [pytest.mark.vm, pytest.mark.requires(*IMAGE_TOOLS)]


def test_two_builds_from_the_same_inputs_have_the_same_digests(tmp_path):
    first = imager_build.build(cache_dir=str(tmp_path / "a"), use_cache=False)
    second = imager_build.build(cache_dir=str(tmp_path / "b"), use_cache=False)
    assert first.digest == second.digest
    assert first.manifest["artifacts"] == second.manifest["artifacts"]
    assert set(first.manifest["artifacts"]) == set(imager_build.ARTIFACTS)


def test_a_second_build_comes_from_the_cache(tmp_path):
    # the project's sources are inputs: when they change between the two builds (someone
    # editing the checkout) the digests differ and the pair is taken again
    for _ in range(3):
        built = imager_build.build(cache_dir=str(tmp_path))
        again = imager_build.build(cache_dir=str(tmp_path))
        if again.digest == built.digest:
            break
    assert again.digest == built.digest
    assert again.cached
    assert again.manifest == built.manifest


def test_the_image_ships_exactly_the_allowlisted_executables(image, tmp_path):
    assert image.manifest["executables"] == sorted(executables.ALLOWED)


def test_the_cli_writes_every_artifact_and_the_manifest(image, tmp_path):
    from talos.imager.cli import main

    assert main(["--output", str(tmp_path / "out")]) == 0
    with open(tmp_path / "out" / "manifest.json") as f:
        manifest = json.load(f)
    for name, info in manifest["artifacts"].items():
        assert os.path.getsize(tmp_path / "out" / name) == info["size"]
