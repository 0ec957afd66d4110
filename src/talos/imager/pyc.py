"""Bytecode for every Python module of the image, compiled at build time by the image's own
interpreter: checked-hash .pyc files (PEP 552) carry the source's hash instead of its mtime,
so they are the same on every build and stay valid on a read-only root."""

from __future__ import annotations

import os

from talos.imager import tools


def compile_tree(stage: str, python: str, image_dirs: list[str], workers: int = 2) -> None:
    """Compile the .py files under each image directory of the staged tree; the recorded
    source paths are the image's (/usr/lib/...), not the staging directory's."""
    dirs = [os.path.join(stage, d.lstrip("/")) for d in image_dirs]
    tools.run([python, "-E", "-s", "-m", "compileall", "-q", "-q", f"-j{workers}",
               "--invalidation-mode", "checked-hash", "-s", stage, "-p", "/", *dirs],
              env={"PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "0"})
