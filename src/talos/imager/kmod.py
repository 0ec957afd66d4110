"""Kernel modules for the initramfs: the ones a VM or a plain server needs to reach its
root filesystem, network and disks, with their dependencies resolved from modules.dep at
build time (the init loads them in this order with finit_module; there is no modprobe)."""

from __future__ import annotations

import os

from talos.imager.errors import ImageBuildError

#: modules the init loads, by name (without .ko); built-in ones are skipped
WANTED = (
    # first: libcrc32c, ext4 and xfs ask the kernel for the crc32c algorithm, which it would
    # load through modprobe (a soft dependency, modules.softdep); there is none, so the
    # algorithm is loaded before them
    "crc32c_generic",
    # the root filesystem: a squashfs on a loop device, overlays for containers
    "loop", "squashfs", "overlay",
    # virtual hardware: PCI transport, disks, NICs, entropy, console
    "virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net", "virtio_rng", "virtio_console",
    "e1000", "e1000e",
    # file systems of the install disk (EFI, STATE, EPHEMERAL)
    "vfat", "nls_cp437", "nls_iso8859-1", "ext4", "xfs",
    # systemd-boot's Loader* variables (which UKI entry booted: A/B boot counting)
    "efivarfs",
)


def _name(path: str) -> str:
    base = os.path.basename(path)
    for ext in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if base.endswith(ext):
            return base[: -len(ext)]
    return base


def parse_modules_dep(text: str) -> dict[str, list[str]]:
    """modules.dep as {relative path: [relative paths it needs]}."""
    deps: dict[str, list[str]] = {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        mod, _, rest = line.partition(":")
        deps[mod.strip()] = rest.split()
    return deps


def load_order(deps: dict[str, list[str]], builtin: set[str],
               wanted: tuple[str, ...] = WANTED) -> list[str]:
    """Relative paths of the wanted modules and everything they need, dependencies first;
    deterministic (the wanted order, then modules.dep's own order)."""
    by_name: dict[str, str] = {}
    for path in deps:
        by_name.setdefault(_name(path).replace("-", "_"), path)
    order: list[str] = []
    seen: set[str] = set()

    def visit(path: str) -> None:
        if path in seen:
            return
        seen.add(path)
        # modules.dep lists the full closure, the deepest dependency last
        for dep in reversed(deps.get(path, [])):
            visit(dep)
        order.append(path)

    for name in wanted:
        key = name.replace("-", "_")
        if key in builtin:
            continue
        found = by_name.get(key)
        if found is None:
            raise ImageBuildError(f"kernel module {name!r} is neither built in nor in "
                                  "modules.dep")
        visit(found)
    return order


def builtin_names(modules_dir: str) -> set[str]:
    path = os.path.join(modules_dir, "modules.builtin")
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {_name(line.strip()).replace("-", "_") for line in f if line.strip()}


def resolve(modules_dir: str) -> list[tuple[str, str]]:
    """(file name in the initramfs, path here) of every module to load, in load order."""
    with open(os.path.join(modules_dir, "modules.dep")) as f:
        deps = parse_modules_dep(f.read())
    out = []
    for rel in load_order(deps, builtin_names(modules_dir)):
        if not rel.endswith(".ko"):
            raise ImageBuildError(f"kernel module {rel} is compressed; the init loads plain "
                                  ".ko files only")
        out.append((os.path.basename(rel), os.path.join(modules_dir, rel)))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise ImageBuildError("two kernel modules share a file name: "
                              + ", ".join(sorted({n for n in names if names.count(n) > 1})))
    return out
