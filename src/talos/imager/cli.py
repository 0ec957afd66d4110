"""`python -m talos imager`: build the boot assets of this version (or take them from the
cache) and copy them to an output directory."""

from __future__ import annotations

import argparse
import sys

from talos.imager.build import ARTIFACTS, build, export
from talos.imager.errors import ImageBuildError


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m talos imager",
        description="build the kernel, initramfs, UKI, installer image and metal disk "
                    "image of this version from the build machine's Debian packages")
    p.add_argument("--output", default="_out", help="where to put the assets (default _out)")
    p.add_argument("--kernel-version", help="kernel in /boot to use (default: the newest)")
    p.add_argument("--no-cache", action="store_true",
                   help="build even when ~/.cache/talos-py/images holds this build")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = build(use_cache=not args.no_cache, kernel_version=args.kernel_version)
        export(result, args.output)
    except (ImageBuildError, OSError) as exc:
        print(f"imager: {exc}", file=sys.stderr)
        return 1
    how = "from the cache" if result.cached else "built"
    print(f"image {result.digest[:16]} {how} in {result.seconds:.1f}s -> {args.output}")
    artifacts = result.manifest.get("artifacts", {})
    assert isinstance(artifacts, dict)
    for name in ARTIFACTS:
        info = artifacts.get(name, {})
        print(f"  {name:<22} {info.get('size', 0) / (1 << 20):8.1f} MiB  "
              f"sha256:{str(info.get('sha256', ''))[:16]}")
    executables = result.manifest.get("executables", [])
    assert isinstance(executables, list)
    print(f"  executables shipped: {len(executables)} ({', '.join(executables)})")
    return 0
