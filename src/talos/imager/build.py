"""One image build: inputs -> digest -> (cache hit, or) root filesystem, initramfs, UKI,
installer image, metal disk image, and a manifest naming each with its sha256.

Artifacts (upstream's names, `-amd64`):

    vmlinuz-amd64          Debian's kernel, as installed
    initramfs-amd64.zst    init + kernel modules + rootfs.sqsh (zstd-compressed newc cpio)
    rootfs-amd64.sqsh      the root filesystem alone (also inside the initramfs)
    metal-amd64-uki.efi    the unified kernel image (stub + kernel + initramfs + cmdline)
    installer-amd64.tar    the installer image (OCI layout tarball): systemd-boot, the
                           rootfs, the UKI (talos.efi) and their SHA256SUMS under
                           /usr/install/amd64
    metal-amd64.raw        the metal disk image (GPT, systemd-boot + UKI on the ESP)
    manifest.json          sizes and sha256 of the above, the executables shipped, inputs
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass

from talos.imager import cache, disk, executables, initramfs, kmod, oci, pyc, rootfs, squashfs
from talos.imager import sources as sources_mod
from talos.imager import uki as uki_mod
from talos.imager.plan import Plan, file_digest
from talos.machinery.version import TAG

#: bump when the imager's output changes for the same inputs in a way its code does not show
FORMAT = 3
#: upstream's default kernel arguments, minus what needs a kernel we do not have (IMA)
CMDLINE = ("talos.platform=metal console=tty0 console=ttyS0 init_on_alloc=1 slab_nomerge "
           "pti=on consoleblank=0 printk.devkmsg=on random.trust_cpu=on")
#: 2023-11-14T22:13:20Z: when SOURCE_DATE_EPOCH is unset every file gets this time
DEFAULT_EPOCH = 1700000000
ARTIFACTS = ("vmlinuz-amd64", "initramfs-amd64.zst", "rootfs-amd64.sqsh",
             "metal-amd64-uki.efi", "installer-amd64.tar", "metal-amd64.raw")
INSTALLER_REPO = "ghcr.io/siderolabs/installer"
INSTALLER_REF = f"{INSTALLER_REPO}:{TAG}"
#: what an upgrade finds under /usr/install/amd64 of the installer image (besides SHA256SUMS)
INSTALLER_ROOTFS = "rootfs.sqsh"
INSTALLER_UKI = "talos.efi"


@dataclass(frozen=True)
class Result:
    digest: str
    cached: bool
    directory: str  # the cache entry
    manifest: dict[str, object]
    seconds: float


def epoch() -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else DEFAULT_EPOCH


def _tool_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else ""


def inputs_digest(plan_digest: str, src: sources_mod.Sources,
                  modules: list[tuple[str, str]], when: int) -> str:
    h = hashlib.sha256()
    parts = [f"format={FORMAT}", f"epoch={when}", f"cmdline={CMDLINE}", f"plan={plan_digest}",
             f"kernel={file_digest(src.vmlinuz)}", f"sd-boot={file_digest(src.sd_boot)}",
             f"sd-stub={file_digest(src.sd_stub)}",
             f"init={file_digest(initramfs.INIT_SOURCE)}"]
    parts += [f"module {name}={file_digest(path)}" for name, path in modules]
    parts += [f"tool={_tool_version(argv)}" for argv in (
        ["gcc", "--version"], ["mksquashfs", "-version"], ["zstd", "--version"],
        ["objcopy", "--version"], ["sfdisk", "--version"], ["mkfs.vfat", "--help"])]
    for p in parts:
        h.update(p.encode() + b"\n")
    return h.hexdigest()


def build(*, cache_dir: str | None = None, use_cache: bool = True,
          kernel_version: str | None = None, tag: str | None = None) -> Result:
    """`tag`: the version the image reports (default: this checkout's); it is in the root
    filesystem, so in the digest."""
    started = time.monotonic()
    when = epoch()
    tag = tag or TAG
    src = sources_mod.discover(kernel_version)
    plan = rootfs.root_plan(src, tag)
    modules = kmod.resolve(src.modules_dir)
    digest = inputs_digest(plan.digest(), src, modules, when)
    final = cache.entry(digest, cache_dir)
    if use_cache and cache.complete(final):
        os.utime(final)  # used now: the last to be pruned
        with open(os.path.join(final, cache.MANIFEST)) as f:
            return Result(digest, True, final, json.load(f), time.monotonic() - started)

    base = os.path.dirname(final)
    os.makedirs(base, exist_ok=True)
    work = os.path.join(base, f".build-{digest[:16]}-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    try:
        manifest = _build_into(work, src, plan, modules, digest, when, tag)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cache.prune(base)
    return Result(digest, False, final, manifest, time.monotonic() - started)


def _build_into(work: str, src: sources_mod.Sources, plan: Plan,
                modules: list[tuple[str, str]], digest: str, when: int,
                tag: str) -> dict[str, object]:
    stage = os.path.join(work, "rootfs")
    os.makedirs(stage)
    plan.materialize(stage, when)
    pyc.compile_tree(stage, src.python, [f"/usr/lib/python{src.python_version}", rootfs.SITE])
    init = os.path.join(work, "init")
    initramfs.build_init(init, work)
    shipped = sorted([*executables.scan(stage), "/init"])
    executables.check(shipped)

    out = {name: os.path.join(work, name) for name in ARTIFACTS}
    squashfs.make(stage, out["rootfs-amd64.sqsh"], when)
    shutil.rmtree(stage)
    shutil.copyfile(src.vmlinuz, out["vmlinuz-amd64"])
    initramfs.make(out["initramfs-amd64.zst"], init, modules, out["rootfs-amd64.sqsh"], when)
    os.unlink(init)
    os_release = plan.entries["/etc/os-release"].data or b""
    uki_mod.make(out["metal-amd64-uki.efi"], src.sd_stub, out["vmlinuz-amd64"],
                 out["initramfs-amd64.zst"], CMDLINE, os_release, work, when)
    # what a node reads from the installer: the UKI (metal upgrades), the root squashfs
    # (sandbox upgrades) and systemd-boot (installs). The UKI already holds the kernel and
    # the initramfs, which holds the squashfs: shipping vmlinuz/initramfs/sd-stub beside
    # them too made every upgrade pull ~85 MiB nobody reads (~1 min in an emulated VM).
    oci.make(out["installer-amd64.tar"], {
        "sd-boot.efi": src.sd_boot,
        INSTALLER_ROOTFS: out["rootfs-amd64.sqsh"], INSTALLER_UKI: out["metal-amd64-uki.efi"],
    }, f"{INSTALLER_REPO}:{tag}", tag, when)
    loader_conf = os.path.join(work, "loader.conf")
    with open(loader_conf, "w") as f:
        f.write("timeout 0\n")
    disk.make(out["metal-amd64.raw"], {
        "/EFI/BOOT/BOOTX64.EFI": src.sd_boot,
        f"/EFI/Linux/Talos-{tag}.efi": out["metal-amd64-uki.efi"],
        "/loader/loader.conf": loader_conf,
    }, digest, when, work)
    os.unlink(loader_conf)

    manifest: dict[str, object] = {
        "version": tag,
        "inputs": digest,
        "kernel": src.kernel_version,
        "cmdline": CMDLINE,
        "source_date_epoch": when,
        "modules": [name for name, _ in modules],
        "executables": shipped,
        "artifacts": {name: {"sha256": file_digest(path), "size": os.path.getsize(path)}
                      for name, path in sorted(out.items())},
    }
    with open(os.path.join(work, cache.MANIFEST), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    return manifest


def export(result: Result, output: str) -> list[str]:
    """Copy the artifacts and the manifest to `output`; the paths written."""
    os.makedirs(output, exist_ok=True)
    written = []
    for name in (*ARTIFACTS, cache.MANIFEST):
        dst = os.path.join(output, name)
        cache.copy_sparse(os.path.join(result.directory, name), dst)
        written.append(dst)
    return written
