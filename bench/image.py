#!/usr/bin/env python3
"""Image benchmark; prints one JSON object.

* `sizes_mib`: kernel, initramfs, squashfs, UKI, installer archive and metal disk image
  (the disk image's apparent size; it is sparse). `executables_shipped`: how many (and which).
* `build_s`: `python -m talos imager`'s build (`build_cached`: true when its inputs had not
  changed since the last build, so the figure is the cache look-up).
* `boot` (direct kernel boot, `-kernel/-initrd`, software emulation, 1 vCPU, 1 GiB):
  seconds from qemu's start to the init's first line, to machined's first log line, to
  machined's maintenance-mode banner, and to `talosctl version --insecure` answering through
  the VM's user-mode network (this last figure includes talosctl's own start, ~1 s).
* `uefi_boot`: the metal disk image through OVMF, systemd-boot and the UKI, to machined's
  maintenance banner.
* Floor: the same kernel and qemu flags booting a busybox initramfs whose /init prints a
  marker (`floor_busybox_marker_s`), and the same through OVMF is not measured (ENVIRONMENT.md:
  OVMF costs ~6.5 s).

qemu runs in a network namespace of its own (needs root). Default deadline 900 s
(`--deadline`, `$BENCH_DEADLINE`); every VM and temp file is removed on every exit, SIGTERM
and SIGINT included (see _harness.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from _harness import Bench, run

from talos.imager import build as imager_build
from talos.imager import cpio, qemu
from talos.imager.cpio import S_IFCHR, S_IFDIR, S_IFREG, Member

MARKER = "BUSYBOX-FLOOR-MARKER"
MAINTENANCE = "node is in maintenance mode"
CMDLINE = f"console=ttyS0 random.trust_cpu=on panic=-1 {qemu.USER_NET_IP}"


def start_vm(bench: Bench, vm: qemu.VM) -> tuple[subprocess.Popen[bytes], float]:
    script = 'ip link set lo up && exec "$@"'
    started = time.monotonic()
    proc = subprocess.Popen(["unshare", "--net", "--", "sh", "-c", script, "sh",
                             *qemu.argv(vm)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    bench.track(proc.pid)
    return proc, started


def stop_vm(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def wait_console(bench: Bench, proc: subprocess.Popen[bytes], log: str, started: float,
                 texts: list[str]) -> dict[str, float]:
    """Seconds from `started` to each text's first appearance on the serial console."""
    seen: dict[str, float] = {}
    while len(seen) < len(texts):
        bench.waiting_for(f"the console to say {texts[len(seen)]!r}")
        try:
            console = Path(log).read_text(errors="replace")
        except FileNotFoundError:
            console = ""
        now = time.monotonic() - started
        for t in texts:
            if t not in seen and t in console:
                seen[t] = round(now, 2)
        if proc.poll() is not None and len(seen) < len(texts):
            raise SystemExit(f"qemu exited before the console said {texts[len(seen)]!r}: "
                             + console[-400:].replace("\n", " / "))
        time.sleep(0.2)
    return seen


def talosctl_answers(bench: Bench, proc: subprocess.Popen[bytes], started: float) -> float:
    bench.waiting_for("talosctl version --insecure to answer from the VM")
    talosctl = shutil.which("talosctl") or "talosctl"
    while True:
        out = subprocess.run(["nsenter", f"--net=/proc/{proc.pid}/ns/net", "--", talosctl,
                              "version", "--insecure", "-n", "127.0.0.1:50000"],
                             capture_output=True, text=True, timeout=120, check=False)
        if out.returncode == 0 and "Server:" in out.stdout:
            return round(time.monotonic() - started, 2)
        time.sleep(0.5)


def busybox_initramfs(path: Path) -> None:
    busybox = shutil.which("busybox") or "/bin/busybox"
    init = f"#!/bin/busybox sh\n/bin/busybox echo {MARKER}\n/bin/busybox poweroff -f\n"
    members = [Member("bin", S_IFDIR | 0o755), Member("dev", S_IFDIR | 0o755),
               Member("dev/console", S_IFCHR | 0o600, rdev=(5, 1)),
               Member("bin/busybox", S_IFREG | 0o755, source=busybox),
               Member("init", S_IFREG | 0o755, data=init.encode())]
    with open(path, "wb") as f:
        cpio.write(f, members, 0)


def main(bench: Bench) -> dict[str, object]:
    bench.waiting_for("the image build")
    result = imager_build.build()
    art = {name: os.path.join(result.directory, name) for name in imager_build.ARTIFACTS}
    tmp = bench.tempdir("bench-image-")
    manifest_art = result.manifest["artifacts"]
    assert isinstance(manifest_art, dict)
    sizes = {name: round(info["size"] / (1 << 20), 1) for name, info in manifest_art.items()}
    shipped = result.manifest["executables"]
    assert isinstance(shipped, list)

    # direct boot to maintenance mode and the API
    serial = str(tmp / "direct.log")
    proc, started = start_vm(bench, qemu.VM(
        serial_log=serial, kernel=art["vmlinuz-amd64"], initrd=art["initramfs-amd64.zst"],
        cmdline=CMDLINE, host_forwards=((50000, 50000),)))
    marks = wait_console(bench, proc, serial, started,
                         ["talos-init: loading kernel modules", "talos-init: starting machined",
                          "machined is PID 1", MAINTENANCE])
    api = talosctl_answers(bench, proc, started)
    stop_vm(proc)

    # UEFI: OVMF -> systemd-boot -> UKI from the metal disk image
    vars_copy, disk_copy = tmp / "vars.fd", tmp / "disk.raw"
    shutil.copyfile(qemu.OVMF_VARS, vars_copy)
    subprocess.run(["cp", "--sparse=always", art["metal-amd64.raw"], str(disk_copy)],
                   check=True)
    serial_uefi = str(tmp / "uefi.log")
    proc, started = start_vm(bench, qemu.VM(serial_log=serial_uefi, uefi=True,
                                            ovmf_vars=str(vars_copy), disk=str(disk_copy)))
    uefi = wait_console(bench, proc, serial_uefi, started,
                        ["Linux version", "talos-init: starting machined", MAINTENANCE])
    stop_vm(proc)

    # floor: the same kernel with a busybox initramfs printing a marker
    floor_initrd = tmp / "busybox.cpio"
    busybox_initramfs(floor_initrd)
    serial_floor = str(tmp / "floor.log")
    proc, started = start_vm(bench, qemu.VM(
        serial_log=serial_floor, kernel=art["vmlinuz-amd64"], initrd=str(floor_initrd),
        cmdline="console=ttyS0 random.trust_cpu=on panic=-1"))
    floor = wait_console(bench, proc, serial_floor, started, [MARKER])[MARKER]
    stop_vm(proc)

    return {
        "sizes_mib": {
            "kernel": sizes["vmlinuz-amd64"], "initramfs": sizes["initramfs-amd64.zst"],
            "squashfs": sizes["rootfs-amd64.sqsh"], "uki": sizes["metal-amd64-uki.efi"],
            "installer": sizes["installer-amd64.tar"], "disk_image": sizes["metal-amd64.raw"],
        },
        "executables_shipped": len(shipped),
        "executables": shipped,
        "build_s": round(result.seconds, 1),
        "build_cached": result.cached,
        "boot": {
            # KVM hangs on these machines (ENVIRONMENT.md) even where /dev/kvm opens
            "emulation": "tcg (software)",
            "to_init_s": marks["talos-init: loading kernel modules"],
            "to_machined_s": marks["talos-init: starting machined"],
            "to_machined_pid1_log_s": marks["machined is PID 1"],
            "to_maintenance_banner_s": marks[MAINTENANCE],
            "to_maintenance_api_answer_s": api,
        },
        "uefi_boot": {
            "to_kernel_s": uefi["Linux version"],
            "to_machined_s": uefi["talos-init: starting machined"],
            "to_maintenance_banner_s": uefi[MAINTENANCE],
        },
        "floor_busybox_marker_s": floor,
    }


if __name__ == "__main__":
    run(main, deadline=900.0, needs_root="qemu runs in a network namespace of its own")
