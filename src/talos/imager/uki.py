"""The unified kernel image: systemd-boot's EFI stub with the kernel, the initramfs, the
kernel command line and os-release added as PE sections (the section addresses the stub
expects, as `ukify` places them for a kernel of this size)."""

from __future__ import annotations

import os

from talos.imager import tools

#: section -> virtual address; the initrd goes last, it may be as large as it likes
SECTIONS = ((".osrel", 0x20000), (".cmdline", 0x30000), (".linux", 0x2000000),
            (".initrd", 0x3000000))


def make(out: str, stub: str, vmlinuz: str, initramfs: str, cmdline: str,
         os_release: bytes, workdir: str) -> None:
    files = {".osrel": os.path.join(workdir, "osrel"),
             ".cmdline": os.path.join(workdir, "cmdline"),
             ".linux": vmlinuz, ".initrd": initramfs}
    with open(files[".osrel"], "wb") as f:
        f.write(os_release)
    with open(files[".cmdline"], "wb") as f:
        f.write(cmdline.encode() + b"\0")
    argv = ["objcopy"]
    for name, vma in SECTIONS:
        argv += ["--add-section", f"{name}={files[name]}",
                 "--change-section-vma", f"{name}={vma:#x}"]
    tools.run([*argv, stub, out])
    os.unlink(files[".osrel"])
    os.unlink(files[".cmdline"])
