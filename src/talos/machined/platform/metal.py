"""machined as PID 1 of a machine booted from the image (platform `metal`).

The initramfs init (talos/imager/init/init.c) hands over with /dev (devtmpfs), /proc and
/sys mounted on a read-only squashfs root. Here machined adds what a real kernel does not
give it and a sandbox got from its launcher: /dev/pts, /dev/shm, the cgroup2 hierarchy,
tmpfs at /run, /tmp and /system (its `state` and `run`), and /var. STATE and
EPHEMERAL are the xfs partitions labelled STATE and EPHEMERAL when the machine is installed
(install/disk.py), tmpfs otherwise. A reboot on metal is a real reboot(2); the first one after
a config naming `machine.install.disk` was applied in maintenance mode installs to that disk
first.

The network at boot (before machined has a config, which `talos.config=` may need the
network to download): the loopback, and the static address of the kernel's `ip=` argument
(`cmdline.py`), or else a DHCP lease (`dhcp.py`) on the first link, recorded in
`BOOT_LEASES`. From then on the network controllers (machined/controllers/network) own it:
the `ip=` address, the machine config's `machine.network.interfaces` and the DHCP operator,
which adopts the boot's lease and renews it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from talos.machined.mounts import MS_NODEV, MS_NOSUID, MountError, _mount
from talos.machined.platform import cmdline
from talos.machined.platform.cmdline import CMDLINE, kernel_arg, parse_ip_arg

if TYPE_CHECKING:
    from talos.machined.platform.dhcp import Lease

log = logging.getLogger("talos.machined.metal")

MS_NOEXEC = 8
#: upstream's DefaultRouteMetric (the boot's default route carries it, as its spec does)
DEFAULT_ROUTE_METRIC = 1024
LINUX_REBOOT_CMD_POWER_OFF = 0x4321FEDC
LINUX_REBOOT_CMD_RESTART = 0x01234567
#: mount point -> GPT label of the partition mounted there on an installed machine
INSTALLED = {"/system/state": "STATE", "/var": "EPHEMERAL"}
#: the boot's DHCP leases, one JSON file per link, adopted by the DHCP operator
BOOT_LEASES = "/run/talos/network/dhcp"
#: where a config named by `talos.config=URL` is downloaded (tmpfs)
DOWNLOADED_CONFIG = "/run/talos/config.yaml"

#: (source, target, fstype, flags, data): mounted in this order when not mounted yet
MOUNTS = (
    ("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"),
    ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None),
    ("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, None),
    ("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666"),
    ("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"),
    ("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
     "nsdelegate"),
    ("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"),
    ("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"),
    ("tmpfs", "/system", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"),
    ("tmpfs", "/system/state", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700"),
    ("tmpfs", "/system/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"),
    ("tmpfs", "/var", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"),
)


_active = False
_installed = False


def active() -> bool:
    """True in machined when it runs a machine booted from the image (Version says
    platform `metal`)."""
    return _active


def installed() -> bool:
    """True on a machine whose STATE is its installed disk's partition (not a tmpfs)."""
    return _installed


def setup_root() -> None:
    """Mount what machined needs; each one only if it is not there yet (a re-exec of
    machined finds them all)."""
    global _active, _installed
    if os.getpid() != 1:
        raise MountError("metal mode needs machined to be PID 1 of the machine")
    _active = True
    from talos.machined.install import disk

    for src, target, fstype, flags, data in MOUNTS:
        if os.path.ismount(target):
            _installed = _installed or (target == "/system/state"
                                        and _fstype(target) == "xfs")
            continue
        os.makedirs(target, exist_ok=True)
        if target in INSTALLED:
            try:
                if disk.mount_label(INSTALLED[target], target) is not None:
                    _installed = _installed or target == "/system/state"
                    continue
            except disk.InstallError as exc:
                log.error("%s; using a tmpfs instead", exc)
        _mount(src, target, fstype, flags, data)
    log.info("machined is PID 1 of the machine (platform metal): mounts set up")


def configure_network() -> None:
    """The `ip=` kernel argument's static address, or a DHCP lease on the first link that
    is not the loopback when there is no `ip=` (or `ip=dhcp`)."""
    try:
        with open(CMDLINE) as f:
            cmdline = f.read()
    except OSError:
        return
    from pyroute2 import IPRoute

    arg = parse_ip_arg(cmdline)
    with IPRoute() as ipr:
        links = [(link["index"], link.get_attr("IFLA_IFNAME"), link.get_attr("IFLA_ADDRESS"))
                 for link in ipr.get_links() if link.get_attr("IFLA_IFNAME") != "lo"]
        if arg is not None and arg.device:
            links = [link for link in links if link[1] == arg.device]
        if not links:
            log.warning("no network link to configure (%s)",
                        arg.device if arg and arg.device else "none but the loopback")
            return
        index, ifname, mac = sorted(links)[0]
        ipr.link("set", index=index, state="up")
        if arg is not None:
            address, prefix, gateway, hostname = (arg.address, arg.prefixlen, arg.gateway,
                                                  arg.hostname)
            source = "the ip= kernel argument"
        else:
            from talos.machined.platform import dhcp

            lease = dhcp.acquire(ifname, bytes.fromhex(mac.replace(":", "")))
            if lease is None:
                log.warning("network: no DHCP server answered on %s", ifname)
                return
            address, prefix, gateway, hostname = (lease.address, lease.prefixlen,
                                                  lease.gateway, lease.hostname)
            source = f"DHCP (server {lease.server}, lease {lease.lease_s}s)"
            _record_lease(ifname, lease)
        with contextlib.suppress(Exception):  # already there after a re-exec
            ipr.addr("add", index=index, address=address, prefixlen=prefix)
        if gateway:
            with contextlib.suppress(Exception):
                # the metric and link of the RouteSpec that adopts it (config_specs.route)
                ipr.route("add", dst="default", gateway=gateway, oif=index,
                          priority=DEFAULT_ROUTE_METRIC)
    if hostname:
        with contextlib.suppress(OSError):
            ctypes.CDLL(None, use_errno=True).sethostname(hostname.encode(), len(hostname))
    log.info("network: %s/%d on %s from %s", address, prefix, ifname, source)


def _record_lease(ifname: str, lease: Lease) -> None:
    from talos.machinery.atomic import write_atomic

    raw = {"lease": lease.to_json(), "obtained": time.monotonic()}
    try:
        os.makedirs(BOOT_LEASES, exist_ok=True)
        write_atomic(os.path.join(BOOT_LEASES, f"{ifname}.json"), json.dumps(raw))
    except OSError as exc:
        log.warning("cannot record the DHCP lease of %s: %s", ifname, exc)


def boot_leases(directory: str = BOOT_LEASES) -> dict[str, tuple[Lease, float]]:
    """The boot's DHCP leases by link: (lease, when it was obtained, monotonic)."""
    from talos.machined.platform.dhcp import Lease

    out: dict[str, tuple[Lease, float]] = {}
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return out
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(directory, name)) as f:
                raw = json.load(f)
            out[name[:-5]] = (Lease.from_json(raw["lease"]), float(raw["obtained"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring the recorded DHCP lease %s: %s", name, exc)
    return out


def fetch_config(timeout_s: float = 120.0) -> str | None:
    """Download the machine config named by `talos.config=URL` (upstream's kernel argument)
    into /run, unless STATE holds a config already; the path, to boot with as machined's
    `--config` (validated and copied into STATE by machined), or None. Retries until the
    network answers or `timeout_s` passes."""
    import time
    import urllib.error
    import urllib.request

    from talos.machined.paths import NodePaths
    from talos.machinery.atomic import write_atomic

    try:
        with open(CMDLINE) as f:
            url = kernel_arg(f.read(), "talos.config")
    except OSError:
        return None
    if not url or os.path.exists(NodePaths("/").config):
        return None
    if not url.startswith(("http://", "https://")):
        log.warning("talos.config=%s: only http(s) URLs are fetched", url)
        return None
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                data = resp.read()
            break
        except (urllib.error.URLError, OSError) as exc:
            if time.monotonic() >= deadline:
                log.warning("talos.config: cannot download the machine config from %s: %s",
                            url, getattr(exc, "reason", exc))
                return None
            time.sleep(2)
    write_atomic(DOWNLOADED_CONFIG, data)
    log.info("talos.config: downloaded the machine config from %s", url)
    return DOWNLOADED_CONFIG


def _fstype(target: str) -> str | None:
    try:
        with open("/proc/self/mounts") as f:
            found = [line.split()[2] for line in f if line.split()[1:2] == [target]]
    except OSError:
        return None
    return found[-1] if found else None


def reboot() -> None:
    """ExitAction.REBOOT on metal: a real reboot(2) through the firmware. When STATE is still
    the tmpfs of maintenance mode and its config names `machine.install.disk`, install to
    that disk first (partition, format, store the config). Returns only when the install
    failed: the caller re-executes machined in place (the config stays in the tmpfs)."""
    from talos.machined.install import disk
    from talos.machined.paths import NodePaths
    from talos.machinery.errors import TalosError

    if not _installed:
        target = disk.install_disk(NodePaths("/").config)
        if target is not None:
            try:
                disk.install(target, "/system/state")
            except (TalosError, OSError) as exc:
                log.error("install to %s failed: %s", target, exc)
                return
            log.info("installed to %s: rebooting from it", target)
    log.info("rebooting the machine")
    _restart()


def _restart() -> None:
    """Flush, unmount STATE and EPHEMERAL of an installed machine, reboot(2)."""
    from talos.machined.install import disk

    os.sync()
    for target in ("/var", "/system/state"):
        if _fstype(target) == "xfs":
            with contextlib.suppress(Exception):
                disk.umount(target)
    os.sync()
    ctypes.CDLL(None, use_errno=True).reboot(LINUX_REBOOT_CMD_RESTART)


def power_off() -> None:
    """PID 1 must not exit (the kernel would panic): flush and power the machine off."""
    os.sync()
    ctypes.CDLL(None, use_errno=True).reboot(LINUX_REBOOT_CMD_POWER_OFF)


#: upstream's countdown before a failed machined reboots the machine (seconds)
FAILURE_REBOOT_DELAY = 10
_powering_off = False


def powering_off() -> None:
    """machined ends because the machine was told to shut down: its exit powers it off."""
    global _powering_off
    _powering_off = True


def on_exit(*, sleep: Callable[[float], None] = time.sleep,
            restart: Callable[[], None] | None = None,
            halt: Callable[[], None] | None = None, cmdline_path: str = CMDLINE) -> None:
    """PID 1's exit on metal (registered with atexit: the kernel would panic if it
    returned). After a shutdown: power off. Any other end is a failure, handled as
    upstream v1.13.9's machined does (internal/app/machined/main.go `handle`): reboot after
    a 10 s countdown, so a trial boot of an upgrade that fails falls back to the previous
    UKI (systemd-boot already counted the try; see upgrade/metal.py), unless the kernel
    command line says `panic=0`: then the machine stays as it is (halted, not powered
    off), as upstream sleeps forever. Never returns."""
    if _powering_off:
        (halt or power_off)()
        return
    if cmdline.kernel_arg(cmdline.read(cmdline_path), "panic") == "0":
        log.error("machined failed; panic=0 kernel flag found, sleeping forever")
        while True:
            sleep(3600)
    for left in range(FAILURE_REBOOT_DELAY, -1, -1):
        log.error("machined failed; rebooting in %d seconds", left)
        sleep(1)
    (restart or _restart)()
