"""What the build machine provides: Debian's kernel, Python, etcd, containerd, runc and the
systemd-boot stub, found where their packages put them."""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass

from talos.imager.errors import ImageBuildError

SYSTEMD_BOOT_DIR = "/usr/lib/systemd/boot/efi"

#: program in the image -> (path on the build machine, Debian package)
BINARIES = {
    "/usr/bin/etcd": ("/usr/bin/etcd", "etcd-server"),
    "/usr/bin/containerd": ("/usr/bin/containerd", "containerd"),
    "/usr/bin/containerd-shim-runc-v2": ("/usr/bin/containerd-shim-runc-v2", "containerd"),
    "/usr/sbin/runc": ("/usr/sbin/runc", "runc"),
    # containerd 1.6 pulls client-side: ImageService Pull/Import and an upgrade's pull of
    # the installer image run containerd's own client (machined/server/images.py)
    "/usr/bin/ctr": ("/usr/bin/ctr", "containerd"),
    # machined formats STATE and EPHEMERAL as xfs when it installs to disk (as upstream);
    # the one formatting tool shipped (machined writes the partition table itself)
    "/usr/sbin/mkfs.xfs": ("/usr/sbin/mkfs.xfs", "xfsprogs"),
}


@dataclass(frozen=True)
class Sources:
    kernel_version: str
    vmlinuz: str
    modules_dir: str
    python: str  # Debian's interpreter (python3.X-minimal), not the one running the build
    python_version: str  # "3.11"
    stdlib: str  # /usr/lib/python3.X
    sd_boot: str  # systemd-bootx64.efi
    sd_stub: str  # linuxx64.efi.stub
    binaries: tuple[tuple[str, str], ...]  # (path in the image, path here)


def _version_key(v: str) -> list[int | str]:
    return [int(p) if p.isdigit() else p for p in re.split(r"[.-]", v)]


def _need(path: str, package: str) -> str:
    if not os.path.exists(path):
        raise ImageBuildError(f"the image build needs {path}: apt-get install {package}")
    return path


def discover(kernel_version: str | None = None) -> Sources:
    """The inputs on this machine; the newest installed kernel unless one is named."""
    if kernel_version is None:
        found = sorted((os.path.basename(p)[len("vmlinuz-"):]
                        for p in glob.glob("/boot/vmlinuz-*")), key=_version_key)
        found = [v for v in found if os.path.isdir(f"/lib/modules/{v}")]
        if not found:
            raise ImageBuildError("the image build needs a kernel in /boot with its modules "
                                  "in /lib/modules: apt-get install linux-image-amd64")
        kernel_version = found[-1]
    py = "3.11"
    binaries = tuple((dst, _need(src, pkg)) for dst, (src, pkg) in sorted(BINARIES.items()))
    return Sources(
        kernel_version=kernel_version,
        vmlinuz=_need(f"/boot/vmlinuz-{kernel_version}", "linux-image-amd64"),
        modules_dir=_need(f"/lib/modules/{kernel_version}", "linux-image-amd64"),
        python=_need(f"/usr/bin/python{py}", f"python{py}-minimal"),
        python_version=py,
        stdlib=_need(f"/usr/lib/python{py}/os.py", f"libpython{py}-stdlib").rsplit("/", 1)[0],
        sd_boot=_need(f"{SYSTEMD_BOOT_DIR}/systemd-bootx64.efi", "systemd-boot-efi"),
        sd_stub=_need(f"{SYSTEMD_BOOT_DIR}/linuxx64.efi.stub", "systemd-boot-efi"),
        binaries=binaries,
    )
