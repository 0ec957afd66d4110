"""Create a cluster of qemu VMs booted from the imager's assets.

The steps are the sandbox provisioner's (talos.provision.create) with VMs for nodes:
check the CIDR, generate the configs, record the state, create the bridge, then for each
node a tap on the bridge, a disk, and qemu booting the kernel and initramfs directly (with
`uefi`, through OVMF: the firmware boots the kernel qemu hands it) with the node's static
address (`ip=`) and `talos.config=` naming its config on the config server of its launcher
(talos.provision.qemu.launcher: it runs qemu, which resets the VM in place when the guest
reboots, and serves the config on the bridge gateway until the VM powers off or
`cluster destroy` stops it). Any failure removes everything (`destroy_cluster`) and
raises CreateFailed naming the step and, when a node is at fault, its console tail.
Bootstrap, health and the talosconfig merge are the caller's, as for sandbox clusters.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from talos.imager import build as imager_build
from talos.imager import cache as imager_cache
from talos.imager import qemu
from talos.machinery.client.talosconfig import Talosconfig
from talos.machinery.config.generate import GenerateOptions, generate
from talos.machinery.errors import FailedPrecondition, InvalidArgument, TalosError
from talos.provision import image, network
from talos.provision.create import (
    CreateFailed,
    CreateOptions,
    Report,
    cleanup,
    cluster_talosconfig,
    node_config,
    plan,
    refuse_existing,
    write_cluster_state,
)
from talos.provision.qemu import vm
from talos.provision.qemu.launcher import FETCHED, LaunchSpec
from talos.provision.qemu.network import ip_argument, mac_address
from talos.provision.state import ClusterRecord, NodeRecord

KERNEL = "vmlinuz-amd64"
INITRAMFS = "initramfs-amd64.zst"
#: the image's own kernel arguments. No `panic=-1`: qemu runs without -no-reboot (a reboot
#: resets the VM in place), so a panic that rebooted would boot again and panic forever;
#: the kernel's default halts, the panic stays last on the console
CMDLINE = imager_build.CMDLINE
QEMU = "qemu-system-x86_64"
#: the VM's virtio disk, as upstream's qemu provisioner (GenOptions) names it: the first
#: reboot installs to it, later boots mount STATE and EPHEMERAL from it
INSTALL_DISK = "/dev/vda"


@dataclass(frozen=True)
class QemuOptions:
    #: a directory holding the imager's assets (`python -m talos imager --output DIR`);
    #: empty: this version's image from the imager's cache, built once when missing
    image: str = ""
    #: boot through OVMF (UEFI) instead of handing qemu the kernel directly
    uefi: bool = False
    memory_mib: int = 1024
    cpus: int = 1
    disk_mib: int = 6144

    def validate(self) -> None:
        if self.memory_mib < 512:
            raise InvalidArgument(f"--memory: {self.memory_mib} MiB is too little (the "
                                  "initramfs alone unpacks ~130 MiB): expected at least 512")
        if self.cpus < 1:
            raise InvalidArgument(f"--cpus: {self.cpus}: expected 1 or more")
        if self.disk_mib < 1024:
            raise InvalidArgument(f"--disk: {self.disk_mib} MiB: expected at least 1024")


@dataclass(frozen=True)
class Assets:
    kernel: str
    initramfs: str


def assets(q: QemuOptions, report: Report) -> Assets:
    """The kernel and initramfs to boot: from --image, or the imager's cached build."""
    directory = (os.path.abspath(os.path.expanduser(q.image)) if q.image
                 else image.this_version(report))
    found = Assets(os.path.join(directory, KERNEL), os.path.join(directory, INITRAMFS))
    for path in (found.kernel, found.initramfs):
        if not os.path.isfile(path):
            raise InvalidArgument(f"--image {q.image or directory}: {os.path.basename(path)} "
                                  "is missing (expected the output directory of "
                                  "`python -m talos imager`)")
    return found


def check_host(q: QemuOptions) -> None:
    if shutil.which(QEMU) is None:
        raise FailedPrecondition(f"{QEMU} is not installed (apt-get install qemu-system-x86)")
    if q.uefi and not (os.path.exists(qemu.OVMF_CODE) and os.path.exists(qemu.OVMF_VARS)):
        raise FailedPrecondition(f"--uefi: {qemu.OVMF_CODE} is missing (apt-get install ovmf)")


def provision_qemu(opts: CreateOptions, q: QemuOptions, report: Report
                   ) -> tuple[ClusterRecord, Talosconfig, ConfigsFetched]:
    """Create the cluster's files, bridge, taps and VMs (each with its launcher, which
    serves the node its config for as long as the VM lives); returns the record, its
    talosconfig context and what tells when every node has downloaded its config. On
    failure everything is removed and CreateFailed raised."""
    p = plan(opts)
    q.validate()
    refuse_existing(opts, p)
    check_host(q)
    step = "find image"
    try:
        boot = assets(q, report)
        step = "check network"
        report(f"checking that {p.net.cidr} is free on this host")
        network.check_cidr_free(p.net.cidr)
        step = "generate configs"
        report("generating PKI, machine configs and the talosconfig")
        cps = p.controlplane_addresses
        generated = generate(GenerateOptions(cluster_name=opts.name,
                                             endpoint=f"https://{cps[0]}:6443",
                                             talosconfig_endpoints=cps,
                                             install_disk=INSTALL_DISK))
        configs: dict[str, tuple[str, bytes]] = {}
        for name, role, addr in p.nodes:
            base = generated.controlplane if role == "controlplane" else generated.worker
            patches = (*opts.config_patches, *(opts.config_patches_controlplane
                                               if role == "controlplane"
                                               else opts.config_patches_worker))
            configs[name] = (addr, node_config(base, name, patches).encode())
    except TalosError as e:
        raise CreateFailed(step, str(e)) from None
    talosconfig = cluster_talosconfig(opts.name, generated.talosconfig, cps)

    directory = opts.directory
    record = ClusterRecord(
        name=opts.name, cidr=str(p.net.cidr), bridge=p.net.bridge, directory=str(directory),
        created=time.time(), provisioner="qemu",
        nodes=tuple(NodeRecord(n, r, a, str(directory / n),
                               console_log=str(directory / n / vm.CONSOLE_LOG))
                    for n, r, a in p.nodes))
    failed_node = ""
    try:
        step = "record state"
        record = write_cluster_state(record, generated.secrets, talosconfig)

        step = "create bridge"
        report(f"creating bridge {p.net.bridge} ({p.net.gateway}/{p.net.cidr.prefixlen})")
        network.create_bridge(p.net)
        step = "launch VMs"
        for i, node in enumerate(record.nodes):
            failed_node = node.name
            tap = network.attach_tap(p.net, node.name)
            record = record.with_node(replace(node, veth=tap))
            record.save()
            node_dir = Path(node.directory)
            node_dir.mkdir(mode=0o700)
            vm.make_disk(node_dir / vm.DISK, q.disk_mib)
            ovmf_vars = ""
            if q.uefi:
                ovmf_vars = str(node_dir / vm.OVMF_VARS)
                imager_cache.copy_sparse(qemu.OVMF_VARS, ovmf_vars)
            # the launcher appends talos.config=<its own config server's URL>
            cmdline = " ".join((CMDLINE, ip_argument(p.net, p.net.node_address(i), node.name)))
            spec = qemu.VM(serial_log=node.log_path, kernel=boot.kernel,
                           initrd=boot.initramfs, cmdline=cmdline, disk=str(node_dir / vm.DISK),
                           uefi=q.uefi, ovmf_vars=ovmf_vars, memory_mib=q.memory_mib,
                           cpus=q.cpus, tap=tap, mac=mac_address(opts.name, node.name),
                           kvm=qemu.kvm_usable() and os.environ.get("TALOS_QEMU_KVM") == "1",
                           no_reboot=False)
            report(f"booting {node.name} ({node.role}, {node.address}, "
                   f"{'UEFI' if q.uefi else 'direct kernel boot'}, "
                   f"{'KVM' if spec.kvm else 'software emulation'}; its launcher serves "
                   f"its config on {p.net.gateway})")
            launched = vm.launch(node_dir, LaunchSpec(node.name, node.address,
                                                      str(p.net.gateway), spec),
                                 configs[node.name][1])
            record = record.with_node(replace(record.node(node.name), pid=launched.qemu_pid,
                                              launcher_pid=launched.launcher_pid))
            record.save()
        failed_node = ""
    except BaseException as e:
        cleanup(opts, report)
        if isinstance(e, CreateFailed):
            raise
        if isinstance(e, (TalosError, OSError)):
            raise CreateFailed(step, str(e), node=failed_node,
                               log_tail=vm.console_tail(record.node(failed_node).log_path)
                               if failed_node else "") from None
        raise
    return record, talosconfig, ConfigsFetched(record)


class ConfigsFetched:
    """Whether every VM has downloaded its config from its launcher (the launcher marks it
    in the node directory). `stop` is for symmetry with a server the caller owns: the
    launchers keep serving until `cluster destroy`."""

    def __init__(self, record: ClusterRecord) -> None:
        self._marks = [Path(n.directory) / FETCHED for n in record.nodes]

    def wait_all_fetched(self, timeout: float | None = None) -> bool:
        """Block until every node has its config or `timeout` passed (run it in a thread
        from async code)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not all(m.exists() for m in self._marks):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def stop(self) -> None:
        pass


T = TypeVar("T")


async def while_vms_run(record: ClusterRecord, work: Awaitable[T]) -> T:
    """Await `work`, failing early (CreateFailed with its console tail) when a VM exits."""
    async def watch() -> None:
        while True:
            for node in record.nodes:
                if not vm.alive(node.pid):
                    raise CreateFailed("wait for the VMs", "the VM exited (qemu is gone)",
                                       node=node.name, log_tail=vm.console_tail(node.log_path))
            await asyncio.sleep(1.0)

    work_task = asyncio.ensure_future(work)
    watch_task = asyncio.ensure_future(watch())
    try:
        await asyncio.wait({work_task, watch_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (work_task, watch_task):
            task.cancel()
        await asyncio.gather(work_task, watch_task, return_exceptions=True)
    if watch_task.done() and not watch_task.cancelled() and watch_task.exception():
        raise watch_task.exception()  # type: ignore[misc]
    return work_task.result()
