"""The image boots on a real (emulated) kernel: the init loads its modules, mounts the
squashfs and execs machined, which comes up as PID 1 in maintenance mode, answers the
insecure API over the VM's network, takes a config through it and then serves apid with
mutual TLS."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from talos.imager import qemu
from tests.prerequisites import in_ci
from tests.vm.conftest import IMAGE_TOOLS, RunningVM, artifact

pytestmark = [pytest.mark.vm, pytest.mark.root,
              pytest.mark.requires(*IMAGE_TOOLS, "qemu-system-x86_64", "unshare", "nsenter",
                                   "ip", "talosctl")]

MAINTENANCE = "node is in maintenance mode: insecure API on 0.0.0.0:50000"
APID_HEALTHY = "service[apid](Running): Health check successful"
NODE_IP = "10.0.2.15"


def _talosctl_until_ok(vm: RunningVM, argv: list[str],
                      attempts: int = 5) -> subprocess.CompletedProcess[str]:
    """The first TLS handshake with a service that just started under software emulation
    can exceed talosctl's connect timeout: try a few times, keep the last answer."""
    for _ in range(attempts - 1):
        out = vm.run_in_netns(["talosctl", *argv], timeout=120)
        if out.returncode == 0:
            return out
        time.sleep(2)
    return vm.run_in_netns(["talosctl", *argv], timeout=120)


def test_machine_boots_into_maintenance_mode_then_serves_mtls_apid_with_an_applied_config(
        image, boot_vm, tmp_path):
    serial = str(tmp_path / "serial.log")
    vm = boot_vm(qemu.VM(
        serial_log=serial, kernel=artifact(image, "vmlinuz-amd64"),
        initrd=artifact(image, "initramfs-amd64.zst"),
        # no ip= argument: machined takes a DHCP lease from qemu's user-mode network
        cmdline="console=ttyS0 random.trust_cpu=on panic=-1",
        host_forwards=((50000, 50000),), kvm=False))
    to_machined = vm.wait_for_console("talos-init: starting machined")
    to_maintenance = vm.wait_for_console(MAINTENANCE)
    console = vm.console()
    assert "machined is PID 1 of the machine (platform metal)" in console
    assert f"network: {NODE_IP}/24 on eth0 from DHCP" in console

    out = _talosctl_until_ok(vm, ["version", "--insecure", "-n", "127.0.0.1:50000"])
    assert out.returncode == 0, out.stderr
    server = out.stdout.split("Server:", 1)[1]
    # Debian's interpreter in the image answers, not the test's
    assert "python3.11" in server and "Tag:" in server

    gen = vm.run_in_netns(["talosctl", "gen", "config", "vm", f"https://{NODE_IP}:6443",
                           "-o", str(tmp_path / "cfg")])
    assert gen.returncode == 0, gen.stderr
    applied = vm.run_in_netns(["talosctl", "apply-config", "--insecure", "-n",
                               "127.0.0.1:50000", "-f", str(tmp_path / "cfg" /
                                                            "controlplane.yaml")], timeout=120)
    assert applied.returncode == 0, applied.stderr
    to_apid = vm.wait_for_console(APID_HEALTHY)

    talosconfig = str(tmp_path / "cfg" / "talosconfig")
    version = _talosctl_until_ok(vm, ["--talosconfig", talosconfig, "-e", "127.0.0.1:50000",
                                      "-n", NODE_IP, "version"])
    assert version.returncode == 0, version.stderr
    assert "Server:" in version.stdout and NODE_IP in version.stdout
    assert "Traceback" not in vm.console()
    print(f"\nboot: machined started {to_machined:.1f}s, maintenance API "
          f"{to_maintenance:.1f}s, apid healthy after the config {to_apid:.1f}s "
          "after qemu started")


#: a static file server that never resolves names (http.server's HTTPServer calls getfqdn,
#: which stalls ~10 s in a namespace without DNS)
FILE_SERVER = ("import functools, http.server, socketserver, sys\n"
               "h = functools.partial(http.server.SimpleHTTPRequestHandler, "
               "directory=sys.argv[1])\n"
               "socketserver.TCPServer(('127.0.0.1', 8080), h).serve_forever()\n")


def test_machine_boots_with_the_config_its_talos_config_argument_names(
        image, boot_vm, tmp_path):
    cfg = tmp_path / "cfg"
    gen = subprocess.run(["talosctl", "gen", "config", "vm", f"https://{NODE_IP}:6443",
                          "-o", str(cfg)], capture_output=True, text=True, check=False)
    assert gen.returncode == 0, gen.stderr
    vm = boot_vm(qemu.VM(
        serial_log=str(tmp_path / "serial.log"), kernel=artifact(image, "vmlinuz-amd64"),
        initrd=artifact(image, "initramfs-amd64.zst"),
        cmdline="console=ttyS0 random.trust_cpu=on panic=-1 "
                "talos.config=http://10.0.2.2:8080/controlplane.yaml",
        host_forwards=((50000, 50000),)))
    vm.start_in_netns([sys.executable, "-c", FILE_SERVER, str(cfg)])
    vm.wait_for_console("talos.config: downloaded the machine config from "
                        "http://10.0.2.2:8080/controlplane.yaml")
    vm.wait_for_console(APID_HEALTHY)
    assert "maintenance mode" not in vm.console()
    version = _talosctl_until_ok(vm, ["--talosconfig", str(cfg / "talosconfig"), "-e",
                                      "127.0.0.1:50000", "-n", NODE_IP, "version"])
    assert version.returncode == 0, version.stderr
    assert "Traceback" not in vm.console()


def test_the_metal_disk_image_boots_through_uefi_and_systemd_boot(image, boot_vm, tmp_path):
    """OVMF finds systemd-boot on the ESP, systemd-boot the UKI under \\EFI\\Linux, and the
    UKI's own command line and initramfs bring machined up in maintenance mode."""
    if not (os.path.exists(qemu.OVMF_CODE) and os.path.exists(qemu.OVMF_VARS)):
        what = f"missing prerequisite: {qemu.OVMF_CODE} (fix: apt-get install ovmf)"
        (pytest.fail if in_ci() else pytest.skip)(what)
    vars_copy, disk_copy = tmp_path / "vars.fd", tmp_path / "disk.raw"
    shutil.copyfile(qemu.OVMF_VARS, vars_copy)
    subprocess.run(["cp", "--sparse=always", artifact(image, "metal-amd64.raw"),
                    str(disk_copy)], check=True)
    vm = boot_vm(qemu.VM(serial_log=str(tmp_path / "serial.log"), uefi=True,
                         ovmf_vars=str(vars_copy), disk=str(disk_copy)))
    vm.wait_for_console(MAINTENANCE)
    console = vm.console()
    assert "talos.platform=metal" in console  # the UKI's .cmdline section
    assert "machined is PID 1 of the machine (platform metal)" in console
