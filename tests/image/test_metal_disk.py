"""The metal disk image as a machine that runs from it sees it: its EFI partition holds the
booted UKI and still has room for the B entry an upgrade writes beside it (the metal boot
target copies the new UKI to `\\EFI\\Linux\\Talos-<tag>~B+1.efi`)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from talos.imager import build as imager_build
from talos.imager import disk
from tests.vm.conftest import IMAGE_TOOLS, artifact

pytestmark = [pytest.mark.image, pytest.mark.requires(*IMAGE_TOOLS, "mdir")]

MTOOLS_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


def test_the_esp_of_the_metal_image_has_room_for_an_upgrades_second_uki(
        image: imager_build.Result, tmp_path: Path) -> None:
    raw = tmp_path / "metal.raw"
    uki = tmp_path / "next.efi"
    # copied out at once: another build may prune the cache entry while this test runs
    subprocess.run(["cp", "--sparse=always", artifact(image, "metal-amd64.raw"), str(raw)],
                   check=True)
    subprocess.run(["cp", artifact(image, "metal-amd64-uki.efi"), str(uki)], check=True)
    table = json.loads(subprocess.run(["sfdisk", "--json", str(raw)], capture_output=True,
                                      check=True).stdout)["partitiontable"]
    efi = table["partitions"][0]
    assert (efi["name"], efi["size"] * 512) == ("EFI", 2101 * disk.MIB)

    esp = f"{raw}@@{efi['start'] * 512}"
    before = subprocess.run(["mdir", "-i", esp, "-b", "::/EFI/Linux"], capture_output=True,
                            text=True, check=True, env=MTOOLS_ENV).stdout.split()
    assert len(before) == 1 and before[0].endswith(".efi"), before
    second = subprocess.run(["mcopy", "-i", esp, str(uki), "::/EFI/Linux/Talos-next~B+1.efi"],
                            capture_output=True, text=True, check=False, env=MTOOLS_ENV)
    assert second.returncode == 0, second.stderr
    after = subprocess.run(["mdir", "-i", esp, "-b", "::/EFI/Linux"], capture_output=True,
                           text=True, check=True, env=MTOOLS_ENV).stdout.split()
    assert len(after) == 2, after
