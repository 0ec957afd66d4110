"""`python -m talos imager`: build the boot assets of this version (or take them from the
cache) and copy them to an output directory."""

from __future__ import annotations

import argparse
import os
import re
import sys

from talos.imager.build import ARTIFACTS, build, export
from talos.imager.errors import ImageBuildError
from talos.machinery.version import TAG

#: a tag is one line of printable characters a file name and an OCI tag can carry
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def _tag(value: str) -> str:
    if not TAG_RE.match(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a version tag (letters, digits, '_', '.', '-'; "
            "at most 128)")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m talos imager",
        description="build the kernel, initramfs, UKI, installer image and metal disk "
                    "image of this version from the build machine's Debian packages")
    p.add_argument("--output", default="_out", help="where to put the assets (default _out)")
    p.add_argument("--kernel-version", help="kernel in /boot to use (default: the newest)")
    p.add_argument("--tag", type=_tag, help="the version the image reports "
                   f"(default: {TAG})")
    p.add_argument("--no-cache", action="store_true",
                   help="build even when ~/.cache/talos-py/images holds this build")
    return p.parse_args(argv)


def parse_installer_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m talos imager installer",
        description="build (or take from the cache) the installer image and push it to a "
                    "registry")
    p.add_argument("--push", metavar="REF", required=True,
                   help="push the installer image as REF (HOST[:PORT]/NAME:TAG)")
    p.add_argument("--plain-http", action="store_true",
                   help="speak plain HTTP to the registry (a local cluster's registry)")
    p.add_argument("--kernel-version", help="kernel in /boot to use (default: the newest)")
    p.add_argument("--tag", type=_tag, help="the version the image reports "
                   f"(default: {TAG})")
    p.add_argument("--no-cache", action="store_true",
                   help="build even when ~/.cache/talos-py/images holds this build")
    return p.parse_args(argv)


def installer_main(argv: list[str]) -> int:
    """`python -m talos imager installer [--tag TAG] --push REF`: the installer OCI archive
    of this version (or of TAG), pushed with the oras client."""
    from talos.imager.push import check_registry, push_layout
    args = parse_installer_args(argv)
    try:
        check_registry(args.push, args.plain_http)
        result = build(use_cache=not args.no_cache, kernel_version=args.kernel_version,
                       tag=args.tag)
        pushed = push_layout(os.path.join(result.directory, "installer-amd64.tar"),
                             args.push, plain_http=args.plain_http)
    except (ImageBuildError, OSError) as exc:
        print(f"imager: {exc}", file=sys.stderr)
        return 1
    print(f"pushed {pushed.ref}@{pushed.digest} ({pushed.blobs} blobs)")
    return 0


def main(argv: list[str] | None = None) -> int:
    rest = sys.argv[1:] if argv is None else argv
    if rest[:1] == ["installer"]:
        return installer_main(rest[1:])
    args = parse_args(argv)
    try:
        result = build(use_cache=not args.no_cache, kernel_version=args.kernel_version,
                       tag=args.tag)
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
