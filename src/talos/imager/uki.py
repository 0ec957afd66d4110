"""The unified kernel image: systemd-boot's EFI stub with the kernel, the initramfs, the
kernel command line and os-release added as PE sections (the section addresses the stub
expects, as `ukify` places them for a kernel of this size)."""

from __future__ import annotations

import os
import struct

from talos.imager import tools

#: section -> virtual address; the initrd goes last, it may be as large as it likes
SECTIONS = ((".osrel", 0x20000), (".cmdline", 0x30000), (".linux", 0x2000000),
            (".initrd", 0x3000000))


def make(out: str, stub: str, vmlinuz: str, initramfs: str, cmdline: str,
         os_release: bytes, workdir: str, epoch: int) -> None:
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
    set_pe_timestamp(out, epoch)


def pe_checksum(data: bytes | bytearray, checksum_at: int) -> int:
    """The PE image checksum: 16-bit one's-complement-style sum of the file (its own field
    taken as zero), plus the file's length."""
    padded = bytes(data) + (b"\0" if len(data) % 2 else b"")
    words = memoryview(padded).cast("H")
    i = checksum_at // 2
    total = sum(words) - words[i] - words[i + 1]
    while total >> 16:  # fold the carries back in (the same as adding with end-around carry)
        total = (total & 0xFFFF) + (total >> 16)
    return (total + len(data)) & 0xFFFFFFFF


def set_pe_timestamp(path: str, epoch: int) -> None:
    """objcopy stamps the PE header with the time it ran: put the build's epoch there (and
    the checksum that goes with it), so the same inputs give the same UKI."""
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        pe = struct.unpack_from("<I", data, 0x3C)[0]
        if data[pe:pe + 4] != b"PE\0\0":
            return
        struct.pack_into("<I", data, pe + 8, epoch & 0xFFFFFFFF)  # COFF TimeDateStamp
        checksum_at = pe + 24 + 64  # OptionalHeader.CheckSum (PE32 and PE32+ alike)
        struct.pack_into("<I", data, checksum_at, pe_checksum(data, checksum_at))
        f.seek(0)
        f.write(data)
