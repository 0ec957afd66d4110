"""Built images, kept by the digest of their inputs: ~/.cache/talos-py/images/<digest>/.

A build is written into a temporary sibling directory and renamed into place when complete,
so a cache entry is either whole or absent.
"""

from __future__ import annotations

import os
import shutil

MANIFEST = "manifest.json"
#: builds kept (each ~300 MB): every change to the project's sources is a new digest
KEEP = 3


def root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "talos-py", "images")


def entry(digest: str, base: str | None = None) -> str:
    return os.path.join(base or root(), digest)


def complete(path: str) -> bool:
    return os.path.isfile(os.path.join(path, MANIFEST))


def copy_sparse(src: str, dst: str) -> None:
    """Copy a file, leaving holes where the source has zeros (disk images are mostly
    empty). Never a hard link: a VM writes into the disk image it boots."""
    block = 1 << 20
    with open(src, "rb") as fin, open(dst + ".tmp", "wb") as fout:
        for chunk in iter(lambda: fin.read(block), b""):
            if chunk.count(0) == len(chunk):
                fout.seek(len(chunk), os.SEEK_CUR)
            else:
                fout.write(chunk)
        fout.truncate()
    os.replace(dst + ".tmp", dst)


def prune(base: str, keep: int = KEEP) -> list[str]:
    """Remove all but the `keep` most recently built entries (and leftovers of builds that
    died); the paths removed."""
    try:
        names = os.listdir(base)
    except FileNotFoundError:
        return []
    entries = [os.path.join(base, n) for n in names if not n.startswith(".")]
    entries = sorted((p for p in entries if complete(p)), key=os.path.getmtime, reverse=True)
    doomed = entries[keep:]
    doomed += [os.path.join(base, n) for n in names if n.startswith(".build-")
               and not _building(n)]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed


def _building(name: str) -> bool:
    """A `.build-<digest>-<pid>` directory whose builder is still alive."""
    pid = name.rsplit("-", 1)[-1]
    return pid.isdigit() and os.path.exists(f"/proc/{pid}")
