"""The image boots on a real (emulated) kernel: the init loads its modules, mounts the
squashfs and execs machined, which comes up as PID 1 in maintenance mode and answers the
insecure API over the VM's network."""

from __future__ import annotations

import pytest

from talos.imager import qemu
from tests.vm.conftest import IMAGE_TOOLS, artifact

pytestmark = [pytest.mark.vm, pytest.mark.root,
              pytest.mark.requires(*IMAGE_TOOLS, "qemu-system-x86_64", "unshare", "nsenter",
                                   "ip")]

MAINTENANCE = "node is in maintenance mode: insecure API on 0.0.0.0:50000"


def test_machine_boots_into_maintenance_mode_and_answers_the_insecure_api(
        image, boot_vm, tmp_path):
    serial = str(tmp_path / "serial.log")
    vm = boot_vm(qemu.VM(
        serial_log=serial, kernel=artifact(image, "vmlinuz-amd64"),
        initrd=artifact(image, "initramfs-amd64.zst"),
        cmdline=f"console=ttyS0 random.trust_cpu=on panic=-1 {qemu.USER_NET_IP}",
        host_forwards=((50000, 50000),), kvm=False))
    to_machined = vm.wait_for_console("talos-init: starting machined")
    to_maintenance = vm.wait_for_console(MAINTENANCE)
    console = vm.console()
    assert "Traceback" not in console
    assert "machined is PID 1 of the machine (platform metal)" in console
    assert "network: 10.0.2.15/24" in console

    out = vm.run_in_netns(["talosctl", "version", "--insecure", "-n", "127.0.0.1:50000"],
                          timeout=120)
    assert out.returncode == 0, out.stderr
    server = out.stdout.split("Server:", 1)[1]
    # Debian's interpreter in the image answers, not the test's
    assert "python3.11" in server and "Tag:" in server
    print(f"\nboot: machined started {to_machined:.1f}s, maintenance API "
          f"{to_maintenance:.1f}s after qemu started")

