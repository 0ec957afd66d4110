"""Install to a blank disk and A/B boot through systemd-boot, in qemu (OVMF, no -kernel).

The VM starts from the metal image attached as a second disk (the boot media); the config
names the blank first disk. The install formats its EFI partition FAT32 from Python and
copies systemd-boot and the booted UKI there as entry A. With the media removed, the VM
boots from that disk through OVMF and systemd-boot and serves apid with the stored config.

Then the test plays the upgrade's write offline (the VM is stopped; mtools writes the ESP
inside the disk file, named as talos.machined.upgrade.metal.MetalTarget names entries):
the UKI as entry B with one try, the default. systemd-boot counts the try down and boots
B; machined, Running with its core services healthy, blesses B (MetalTarget.mark_good on
the node). Then a UKI that cannot boot (a junk initramfs, `panic=1`) replaces A with one
try: the kernel panics and resets the VM, systemd-boot finds A with no try left and boots
B, and machined logs the fallback and names B the default again.

The second test goes through the API: a registry in the VM's network namespace holds the
installer of a second build (`imager installer --tag --push`); `talosctl upgrade` makes
the node pull it through its containerd, write the UKI as entry B and reboot; B boots on
trial, reports the new tag and is blessed; `talosctl rollback` boots A again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from talos.imager import build as imager_build
from talos.imager import qemu, uki
from talos.machined.install import esp, gpt
from tests.prerequisites import in_ci
from tests.vm.conftest import IMAGE_TOOLS, artifact
from tests.vm.test_boot import APID_HEALTHY, MAINTENANCE, NODE_IP, _talosctl_until_ok

pytestmark = [pytest.mark.vm, pytest.mark.root, pytest.mark.timeout(2400),
              pytest.mark.requires(*IMAGE_TOOLS, "qemu-system-x86_64", "unshare", "nsenter",
                                   "ip", "talosctl", "mdir", "mcopy", "mdel", "mtype")]

SD_STUB = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
DISK_MIB = 6144  # EPHEMERAL holds the pulled installer twice (content store, layer copy)
STATE_MOUNTED = "/system/state: mounted /dev/vda3 (STATE)"
ESP_WRITTEN = "systemd-boot and Talos-"
PANIC = "Kernel panic"
ETCD_HEALTHY = "service[etcd](Running): Health check successful"


def _mtools(disk: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """mtools on the EFI partition inside the disk file (`-i disk@@offset`)."""
    efi = next(p for p in gpt.read(disk) if p.name == "EFI")
    image = f"{disk}@@{efi.first_lba * gpt.SECTOR}"
    cmd, *rest = argv
    return subprocess.run([cmd, "-i", image, *rest], capture_output=True, text=True,
                          check=False, env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})


def _copy_out(image: imager_build.Result, tmp_path, *names: str) -> None:
    """Copy artifacts out of the build cache at once: other builds (other tags, other
    tests) may prune the cache entry while this test runs. The metal image is the media."""
    for name in names:
        dst = tmp_path / ("media.raw" if name == "metal-amd64.raw" else name)
        subprocess.run(["cp", "--sparse=always", artifact(image, name), str(dst)], check=True)


def test_blank_disk_install_boots_through_systemd_boot_and_a_failed_b_entry_falls_back(
        image, boot_vm, tmp_path):
    if not (os.path.exists(qemu.OVMF_CODE) and os.path.exists(qemu.OVMF_VARS)):
        what = f"missing prerequisite: {qemu.OVMF_CODE} (fix: apt-get install ovmf)"
        (pytest.fail if in_ci() else pytest.skip)(what)
    vars_copy, media, disk = tmp_path / "vars.fd", tmp_path / "media.raw", tmp_path / "disk.raw"
    shutil.copyfile(qemu.OVMF_VARS, vars_copy)
    _copy_out(image, tmp_path, "metal-amd64.raw", "vmlinuz-amd64", "metal-amd64-uki.efi")
    with open(disk, "wb") as f:
        f.truncate(DISK_MIB << 20)

    def boot(n: int, *, media_too: bool = False, no_reboot: bool = True):
        return boot_vm(qemu.VM(serial_log=str(tmp_path / f"serial-{n}.log"), uefi=True,
                               ovmf_vars=str(vars_copy), disk=str(disk),
                               extra_disks=(str(media),) if media_too else (),
                               host_forwards=((50000, 50000),), no_reboot=no_reboot))

    # 1: from the media, install to the blank disk
    vm = boot(1, media_too=True)
    vm.wait_for_console(MAINTENANCE)
    gen = vm.run_in_netns(["talosctl", "gen", "config", "vm", f"https://{NODE_IP}:6443",
                           "--install-disk", "/dev/vda", "-o", str(tmp_path / "cfg")])
    assert gen.returncode == 0, gen.stderr
    applied = _talosctl_until_ok(vm, ["apply-config", "--insecure", "-n", "127.0.0.1:50000",
                                      "-f", str(tmp_path / "cfg" / "controlplane.yaml")])
    assert applied.returncode == 0, applied.stderr
    vm.wait_for_console("installed to /dev/vda: rebooting from it", limit_s=600)
    assert ESP_WRITTEN in vm.console()
    assert vm.proc.wait(timeout=120) == 0
    listed = _mtools(str(disk), "mdir", "-b", "::/EFI/Linux")
    assert listed.returncode == 0, listed.stderr
    entry_a = esp.entry_name(imager_build.TAG, "A")
    assert listed.stdout.split() == [f"::/EFI/Linux/{entry_a}"]
    assert _mtools(str(disk), "mdir", "::/EFI/BOOT/BOOTX64.EFI").returncode == 0
    talosconfig = str(tmp_path / "cfg" / "talosconfig")

    # 2: the media gone, the disk boots through OVMF and systemd-boot (no -kernel)
    vm = boot(2)
    vm.wait_for_console(STATE_MOUNTED)
    vm.wait_for_console(APID_HEALTHY)
    version = _talosctl_until_ok(vm, ["--talosconfig", talosconfig, "-e", "127.0.0.1:50000",
                                      "-n", NODE_IP, "version"])
    assert version.returncode == 0, version.stderr
    assert MAINTENANCE not in vm.console()
    # etcd is one of the services a boot must have healthy to be marked good
    strapped = vm.run_in_netns(["talosctl", "--talosconfig", talosconfig, "-e",
                                "127.0.0.1:50000", "-n", NODE_IP, "bootstrap"], timeout=120)
    assert strapped.returncode == 0, strapped.stderr
    vm.wait_for_console(ETCD_HEALTHY, limit_s=600)
    vm.stop()

    # offline, as an upgrade writes it: the UKI as entry B with one try, the default
    def put(local: str, name: str) -> None:
        copied = _mtools(str(disk), "mcopy", "-o", local, f"::/EFI/Linux/{name}")
        assert copied.returncode == 0, copied.stderr

    def set_default(name: str) -> None:
        conf = tmp_path / "loader.conf"
        conf.write_text(f"timeout 0\ndefault {name.lower()}\n")
        copied = _mtools(str(disk), "mcopy", "-o", str(conf), "::/loader/loader.conf")
        assert copied.returncode == 0, copied.stderr

    def linux_dir() -> list[str]:
        listed = _mtools(str(disk), "mdir", "-b", "::/EFI/Linux")
        assert listed.returncode == 0, listed.stderr
        return sorted(p.rsplit("/", 1)[-1] for p in listed.stdout.split())

    trial_b = esp.entry_name(imager_build.TAG, "B", 1)
    put(str(tmp_path / "metal-amd64-uki.efi"), trial_b)
    set_default(trial_b)

    # 3: systemd-boot counts B's try down and boots it; machined, Running and healthy,
    # blesses it (renamed without the counter, named the default)
    vm = boot(3)
    vm.wait_for_console(f"boot: slot B ({imager_build.TAG}), on trial", limit_s=600)
    vm.wait_for_console("boot assessment: this boot is good", limit_s=600)
    vm.stop()
    entry_b = esp.entry_name(imager_build.TAG, "B")
    assert linux_dir() == sorted([entry_a, entry_b])
    conf = _mtools(str(disk), "mtype", "::/loader/loader.conf")
    assert f"default {entry_b.lower()}" in conf.stdout

    # offline: a UKI that cannot boot (junk initramfs, panic=1) replaces A, with one try
    junk = tmp_path / "junk.initrd"
    junk.write_bytes(b"not an initramfs" * 64)
    broken = tmp_path / "broken.efi"
    uki.make(str(broken), SD_STUB, str(tmp_path / "vmlinuz-amd64"), str(junk),
             imager_build.CMDLINE + " panic=1", b"NAME=Talos\nID=talos\nVERSION_ID=broken\n",
             str(tmp_path), imager_build.DEFAULT_EPOCH)
    assert _mtools(str(disk), "mdel", f"::/EFI/Linux/{entry_a}").returncode == 0
    trial_a = esp.entry_name("broken", "A", 1)
    put(str(broken), trial_a)
    set_default(trial_a)

    # 4: systemd-boot tries A, the kernel panics and resets the VM, B boots by itself and
    # machined says what happened
    vm = boot(4, no_reboot=False)
    vm.wait_for_console(PANIC)
    vm.wait_for_console("boot: slot A (broken) did not reach a healthy running node: "
                        "systemd-boot fell back to slot B", limit_s=600)
    vm.wait_for_console(APID_HEALTHY, limit_s=600)
    console = vm.console()
    assert console.index(PANIC) < console.index(APID_HEALTHY)
    version = _talosctl_until_ok(vm, ["--talosconfig", talosconfig, "-e", "127.0.0.1:50000",
                                      "-n", NODE_IP, "version"])
    assert version.returncode == 0, version.stderr
    # B named the default again
    vm.wait_for_console("boot assessment: this boot is good", limit_s=600)
    assert "Traceback" not in vm.console()
    vm.stop()
    assert linux_dir() == sorted([entry_b, esp.entry_name("broken", "A")[:-4] + "+0-1.efi"])
    conf = _mtools(str(disk), "mtype", "::/loader/loader.conf")
    assert f"default {entry_b.lower()}" in conf.stdout


NEW_TAG = f"{imager_build.TAG}-metal2"
MIRROR = "10.0.2.2:5000"  # the VM's view of the registry in its network namespace


def _count_on_console(vm, text: str, n: int, limit_s: float = 900.0) -> None:
    """Wait until `text` has appeared `n` times on the console (a VM reset in place keeps
    one log across boots)."""
    import time

    deadline = time.monotonic() + limit_s
    while vm.console().count(text) < n:
        if time.monotonic() > deadline or vm.proc.poll() is not None:
            pytest.fail(f"the console did not say {text!r} {n} times\n--- console ---\n"
                        f"{vm.console()[-3000:]}")
        time.sleep(1)


@pytest.mark.requires("docker-registry")
def test_upgrade_through_the_api_boots_the_new_uki_on_trial_blesses_it_and_rollback_returns(
        boot_vm, tmp_path):
    if not (os.path.exists(qemu.OVMF_CODE) and os.path.exists(qemu.OVMF_VARS)):
        what = f"missing prerequisite: {qemu.OVMF_CODE} (fix: apt-get install ovmf)"
        (pytest.fail if in_ci() else pytest.skip)(what)
    vars_copy, media, disk = tmp_path / "vars.fd", tmp_path / "media.raw", tmp_path / "disk.raw"
    shutil.copyfile(qemu.OVMF_VARS, vars_copy)
    # this checkout's image (from the cache, or built again if another build pruned it);
    # the installer tagged NEW_TAG is built by `imager installer --tag` below
    _copy_out(imager_build.build(), tmp_path, "metal-amd64.raw")
    with open(disk, "wb") as f:
        f.truncate(DISK_MIB << 20)

    def boot(n: int, *, media_too: bool = False, no_reboot: bool = True):
        return boot_vm(qemu.VM(serial_log=str(tmp_path / f"serial-{n}.log"), uefi=True,
                               ovmf_vars=str(vars_copy), disk=str(disk),
                               extra_disks=(str(media),) if media_too else (),
                               host_forwards=((50000, 50000),), no_reboot=no_reboot))

    vm = boot(1, media_too=True)
    vm.wait_for_console(MAINTENANCE)
    gen = vm.run_in_netns(["talosctl", "gen", "config", "vm", f"https://{NODE_IP}:6443",
                           "--install-disk", "/dev/vda", "--registry-mirror",
                           f"{MIRROR}=http://{MIRROR}", "-o", str(tmp_path / "cfg")])
    assert gen.returncode == 0, gen.stderr
    applied = _talosctl_until_ok(vm, ["apply-config", "--insecure", "-n", "127.0.0.1:50000",
                                      "-f", str(tmp_path / "cfg" / "controlplane.yaml")])
    assert applied.returncode == 0, applied.stderr
    vm.wait_for_console("installed to /dev/vda: rebooting from it", limit_s=600)
    assert vm.proc.wait(timeout=120) == 0
    cfg = ["--talosconfig", str(tmp_path / "cfg" / "talosconfig"), "-e", "127.0.0.1:50000",
           "-n", NODE_IP]

    # from now on a guest reboot resets the VM in place (one console log for every boot)
    vm = boot(2, no_reboot=False)
    vm.wait_for_console(APID_HEALTHY)
    strapped = _talosctl_until_ok(vm, [*cfg, "bootstrap"])
    assert strapped.returncode == 0, strapped.stderr
    vm.wait_for_console(ETCD_HEALTHY, limit_s=600)

    storage = tmp_path / "registry"
    storage.mkdir()
    (tmp_path / "registry.yml").write_text(
        "version: 0.1\nlog:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n"
        "http:\n  addr: 127.0.0.1:5000\n  secret: talos-vm-test\n")
    vm.start_in_netns(["docker-registry", "serve", str(tmp_path / "registry.yml")])
    pushed = vm.run_in_netns([sys.executable, "-m", "talos", "imager", "installer", "--tag",
                              NEW_TAG, "--plain-http", "--push",
                              f"127.0.0.1:5000/siderolabs/installer:{NEW_TAG}"], timeout=900)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr

    for _ in range(5):  # a handshake that timed out under emulation reached nothing: retry
        up = vm.run_in_netns(["talosctl", *cfg, "upgrade", "--image",
                              f"{MIRROR}/siderolabs/installer:{NEW_TAG}"], timeout=1800)
        if up.returncode == 0 or "failed to connect" not in up.stderr:
            break
    assert up.returncode == 0, up.stdout + up.stderr
    assert NEW_TAG in up.stdout
    _count_on_console(vm, f"boot: slot B ({NEW_TAG}), on trial", 1)
    _count_on_console(vm, "boot assessment: this boot is good", 1)
    version = _talosctl_until_ok(vm, [*cfg, "version"])
    assert f"Tag:         {NEW_TAG}" in version.stdout or NEW_TAG in version.stdout.split(
        "Server:", 1)[-1], version.stdout

    for _ in range(5):
        back = vm.run_in_netns(["talosctl", *cfg, "rollback"], timeout=300)
        if back.returncode == 0 or "failed to connect" not in back.stderr:
            break
    assert back.returncode == 0, back.stdout + back.stderr
    _count_on_console(vm, f"boot: slot A ({imager_build.TAG})", 2)  # boot 2, then this one
    _count_on_console(vm, APID_HEALTHY, 3)
    version = _talosctl_until_ok(vm, [*cfg, "version"])
    server = version.stdout.split("Server:", 1)[-1]
    assert imager_build.TAG in server and NEW_TAG not in server, version.stdout
    assert "Traceback" not in vm.console()
    vm.stop()

    listed = _mtools(str(disk), "mdir", "-b", "::/EFI/Linux")
    assert sorted(p.rsplit("/", 1)[-1] for p in listed.stdout.split()) == sorted(
        [esp.entry_name(imager_build.TAG, "A"), esp.entry_name(NEW_TAG, "B")])
    conf = _mtools(str(disk), "mtype", "::/loader/loader.conf")
    assert f"default {esp.entry_name(imager_build.TAG, 'A').lower()}" in conf.stdout
