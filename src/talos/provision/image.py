"""Which OS image a local cluster boots: `--image` of `cluster create`.

- qemu VMs boot the image's kernel and initramfs (provision/qemu/create.py);
- sandbox nodes given `--image` boot its root squashfs (provision/sandbox.py, firmware.py).

Without a path, the image of this version: built by the imager once and cached by the
digest of its inputs (talos.imager.build), so it works as a new user's first command.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from talos.imager import build as imager_build
from talos.imager import cache as imager_cache
from talos.imager.errors import ImageBuildError
from talos.machinery import bootslots
from talos.machinery.errors import FailedPrecondition, InvalidArgument
from talos.machinery.version import TAG
from talos.provision.sandbox import BootImage

#: the reference naming this version's image, as upstream's `cluster create --image`
#: default (ghcr.io/siderolabs/talos:<tag>): resolved to the imager's cached build
DEFAULT_REF = f"ghcr.io/siderolabs/talos:{TAG}"
ROOTFS = "rootfs-amd64.sqsh"

Report = Callable[[str], None]


def this_version(report: Report) -> str:
    """The directory of this version's image (the imager's cache entry; built when
    missing)."""
    report("finding this version's image (built once, then cached by the digest of "
           "its inputs)")
    try:
        result = imager_build.build()
    except (ImageBuildError, OSError) as e:
        raise FailedPrecondition(f"building this version's image failed: {e}") from None
    report(f"image {result.digest[:16]} "
           f"{'from the cache' if result.cached else 'built'} ({result.directory})")
    return result.directory


def sandbox_boot_image(value: str, report: Report) -> BootImage:
    """The root squashfs a sandbox node boots for `--image VALUE`: an imager output
    directory, a `.sqsh` file, or DEFAULT_REF (this version's image)."""
    if value == DEFAULT_REF:
        directory = this_version(report)
        rootfs = os.path.join(directory, ROOTFS)
    else:
        path = os.path.abspath(os.path.expanduser(value))
        if os.path.isdir(path):
            rootfs = os.path.join(path, ROOTFS)
            if not os.path.isfile(rootfs):
                raise InvalidArgument(f"--image {value}: {ROOTFS} is missing (expected the "
                                      "output directory of `python -m talos imager`)")
        elif os.path.isfile(path) and path.endswith(".sqsh"):
            rootfs = path
        elif os.path.exists(path):
            raise InvalidArgument(f"--image {value}: expected an imager output directory "
                                  f"or a root squashfs (.sqsh), or {DEFAULT_REF}")
        else:
            raise InvalidArgument(f"--image {value}: no such file or directory (expected an "
                                  "imager output directory, a root squashfs (.sqsh), or "
                                  f"{DEFAULT_REF} for this version's image)")
    report(f"nodes boot from {rootfs}")
    return BootImage(Path(rootfs), bootslots.SlotImage(tag=image_tag(rootfs),
                                                       digest=sha256_of(rootfs)))


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return f"sha256:{h.hexdigest()}"


def image_tag(rootfs: str) -> str:
    """The version tag of a root squashfs: its /etc/os-release VERSION_ID (read with
    `unsquashfs -cat`), else the manifest beside it, else "unknown"."""
    if shutil.which("unsquashfs"):
        try:
            out = subprocess.run(["unsquashfs", "-cat", rootfs, "etc/os-release"],
                                 capture_output=True, text=True, check=False, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            out = None
        if out is not None and out.returncode == 0:
            for line in out.stdout.splitlines():
                key, _, val = line.partition("=")
                if key == "VERSION_ID" and val.strip('"'):
                    return val.strip('"')
    manifest = os.path.join(os.path.dirname(rootfs), imager_cache.MANIFEST)
    try:
        with open(manifest) as f:
            version = json.load(f).get("version")
        if isinstance(version, str) and version:
            return version
    except (OSError, ValueError, AttributeError):
        pass
    return "unknown"
