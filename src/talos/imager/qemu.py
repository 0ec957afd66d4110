"""How the image's assets boot in qemu: the command line of one VM.

Software emulation (TCG) unless KVM works: `-cpu max` gives the guest the host's
instruction set (RDRAND: `random.trust_cpu=on` seeds the kernel's entropy at once), q35 a
PCIe machine. Direct boot (`-kernel`/`-initrd`) skips the firmware; `uefi=True` boots the
metal disk image through Debian's OVMF and systemd-boot instead (~6.5 s more here).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
#: a static address on qemu's user-mode network (10.0.2.0/24, gateway 10.0.2.2)
USER_NET_IP = "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"


@dataclass(frozen=True)
class VM:
    serial_log: str
    kernel: str = ""
    initrd: str = ""
    cmdline: str = ""
    disk: str = ""  # the metal image: booted through OVMF when uefi, else a plain disk
    uefi: bool = False
    ovmf_vars: str = ""  # a writable copy of OVMF_VARS (uefi only)
    memory_mib: int = 1024
    cpus: int = 1
    host_forwards: tuple[tuple[int, int], ...] = ()  # (host port, guest port) on 127.0.0.1
    nic: str = "virtio-net-pci"
    kvm: bool = False
    #: a tap device on the host (made beforehand, e.g. on a bridge) instead of user-mode
    #: networking; host_forwards do not apply to it
    tap: str = ""
    #: the NIC's MAC address (VMs on one bridge need distinct ones); qemu's default if empty
    mac: str = ""
    #: more virtio disks after `disk` (e.g. boot media next to a blank install disk)
    extra_disks: tuple[str, ...] = ()
    #: end qemu when the guest reboots (tests that watch each boot); False: a guest
    #: reboot resets the VM in place and only a power-off ends qemu
    no_reboot: bool = True


def kvm_usable() -> bool:
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def argv(vm: VM) -> list[str]:
    qemu = shutil.which("qemu-system-x86_64") or "qemu-system-x86_64"
    out = [qemu, "-machine", "q35" + (",accel=kvm" if vm.kvm else ",accel=tcg"),
           "-cpu", "host" if vm.kvm else "max", "-m", str(vm.memory_mib),
           "-smp", str(vm.cpus), "-nographic", *(["-no-reboot"] if vm.no_reboot else []),
           "-monitor", "none", "-serial", f"file:{vm.serial_log}", "-nodefaults", "-no-user-config"]
    if vm.uefi:
        out += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                "-drive", f"if=pflash,format=raw,unit=1,file={vm.ovmf_vars}"]
    if vm.kernel:  # with uefi too: OVMF then boots the kernel qemu hands it (fw_cfg)
        out += ["-kernel", vm.kernel, "-initrd", vm.initrd, "-append", vm.cmdline]
    if vm.disk:
        out += ["-drive", f"if=virtio,format=raw,file={vm.disk}"]
    for extra in vm.extra_disks:
        out += ["-drive", f"if=virtio,format=raw,file={extra}"]
    if vm.tap:
        out += ["-netdev", f"tap,id=n0,ifname={vm.tap},script=no,downscript=no"]
    else:
        fwd = "".join(f",hostfwd=tcp:127.0.0.1:{h}-:{g}" for h, g in vm.host_forwards)
        out += ["-netdev", f"user,id=n0{fwd}"]
    out += ["-device", f"{vm.nic},netdev=n0" + (f",mac={vm.mac}" if vm.mac else "")]
    return out
