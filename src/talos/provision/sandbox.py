"""Launch a node sandbox: machined as PID 1 of new PID, mount, UTS and network namespaces.

Python 3.11 has no `os.unshare`, so util-linux `unshare` makes the namespaces and forks
machined inside them; machined then builds the node's mounts itself (read-only host root,
STATE at /system/state, EPHEMERAL at /var, fresh /proc, tmpfs /run). Killing machined (the
namespace's PID 1) ends every process of the node.

Layout of a node directory:
    state/       STATE   (config.yaml, extensions/)
    ephemeral/   EPHEMERAL
    rootfs/      empty mount point for the node's root inside its mount namespace
    machined.log machined's console

A node booted from the OS image (`launch(..., image=...)`, `cluster create --image`) also has
    boot/        boot.json and the slots A/rootfs.sqsh, B/rootfs.sqsh (machinery/bootslots.py),
                 mounted read-write at /boot inside the node
    image/       empty mount point where stage 0 mounts the booted squashfs
and is run by its firmware (talos.provision.firmware): a host process holding the node's
network namespace, booting the node again after each reboot (fresh PID, mount and UTS
namespaces, so machined's pid changes: `machined_pid` derives it from the firmware).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from talos.machinery import bootslots, constants
from talos.machinery.atomic import write_atomic
from talos.machinery.environment import process_environment
from talos.machinery.errors import FailedPrecondition, Unavailable
from talos.provision import firmware as firmware_mod
from talos.provision.state import NodeRecord

UNSHARE = "unshare"


@dataclass(frozen=True)
class BootImage:
    """The image a node boots from: its root squashfs and what the boot record says of it."""

    rootfs: Path
    image: bootslots.SlotImage


@dataclass
class SandboxNode:
    name: str
    directory: Path
    #: the `unshare` launcher, or for a node booted from the image its firmware
    process: subprocess.Popen[bytes] = field(repr=False)
    #: host pid of machined (PID 1 inside the node) of a node without firmware
    _pid: int = 0
    firmware: bool = False

    @property
    def pid(self) -> int:
        """Host pid of machined (PID 1 inside the node) now; 0 while there is none (a node
        with firmware between two boots)."""
        if self.firmware:
            return machined_pid(self.process.pid, firmware=True) if self.alive() else 0
        return self._pid

    @pid.setter
    def pid(self, value: int) -> None:
        self._pid = value

    @property
    def socket(self) -> str:
        """machined's socket as the host reaches it (through the node's root)."""
        return f"/proc/{self.pid}/root{constants.MACHINED_SOCKET}"

    @property
    def log_path(self) -> Path:
        return self.directory / "machined.log"

    @property
    def state_dir(self) -> Path:
        return self.directory / "state"

    @property
    def ephemeral_dir(self) -> Path:
        return self.directory / "ephemeral"

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_socket(self, timeout: float = 30.0) -> None:
        """Block until machined's socket exists (or fail with the end of its log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise Unavailable(f"node {self.name} exited with {self.process.returncode}: "
                                  f"{self.log_tail()}")
            if not self.firmware and self._pid == 0:
                self._pid = _child_pid(self.process.pid)
            if self.pid and os.path.exists(self.socket):
                return
            time.sleep(0.02)
        raise Unavailable(f"node {self.name}: machined socket did not appear within "
                          f"{timeout:g}s: {self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM machined (graceful shutdown; a node with firmware: the firmware, which
        stops machined) and wait for the sandbox to end."""
        target = self.process.pid if self.firmware else self.pid
        if self.alive() and target:
            with contextlib.suppress(ProcessLookupError):
                os.kill(target, signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.wait()

    def kill(self) -> None:
        """SIGKILL machined: the PID namespace, and everything in it, goes with it (a node
        with firmware: its `unshare` first, so the firmware cannot boot it again)."""
        pids = ([self.pid, _child_pid(self.process.pid)] if self.firmware else [self.pid])
        for pid in (*pids, self.process.pid):
            if pid and self.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)

    def destroy(self, *, remove: bool = True) -> None:
        self.kill()
        if remove:
            shutil.rmtree(self.directory, ignore_errors=True)


def _child_pid(parent: int) -> int:
    try:
        with open(f"/proc/{parent}/task/{parent}/children") as f:
            kids = f.read().split()
    except OSError:
        return 0
    return int(kids[0]) if kids else 0


def machined_pid(launcher_pid: int, *, firmware: bool = False) -> int:
    """Host pid of a node's machined from its launcher's: the launcher's child (`unshare`
    forks machined), or for a firmware the child of its `unshare` (0 when none runs)."""
    child = _child_pid(launcher_pid)
    return _child_pid(child) if firmware and child else child


def node_machined_pid(node: NodeRecord) -> int:
    """The recorded node's machined now (a node with firmware gets a new one each boot)."""
    if node.boot_dir:
        return machined_pid(node.launcher_pid, firmware=True) if node.launcher_pid else 0
    return node.pid


def install_boot(directory: Path, boot: BootImage) -> None:
    """The node's boot directory: slot A holding its own copy of the image's squashfs (an
    upgrade may write a slot in place: never a file shared with the cache or another node)
    and the initial boot record."""
    boot_dir = directory / "boot"
    target = Path(bootslots.rootfs_path(boot_dir, bootslots.SLOTS[0]))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    _copy(boot.rootfs, target)
    bootslots.save(boot_dir, bootslots.initial(boot.image))
    (directory / "image").mkdir(exist_ok=True, mode=0o700)


_FICLONE = 0x40049409


def _copy(src: Path, dst: Path) -> None:
    """A private copy of `src`: a reflink where the file system shares blocks, else a copy."""
    import fcntl

    tmp = dst.with_name(dst.name + ".tmp")
    with open(src, "rb") as fin, open(tmp, "wb") as fout:
        try:
            fcntl.ioctl(fout.fileno(), _FICLONE, fin.fileno())
        except OSError:
            shutil.copyfileobj(fin, fout, 1 << 20)
        os.fchmod(fout.fileno(), 0o644)
    os.replace(tmp, dst)


def prepare_node_dir(directory: Path, *, config: bytes | None = None,
                     extensions: dict[str, str] | None = None) -> None:
    for sub in ("state", "ephemeral", "rootfs"):
        (directory / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    if config is not None:
        write_atomic(directory / "state" / constants.CONFIG_FILENAME, config)
    for name, text in (extensions or {}).items():
        write_atomic(directory / "state" / "extensions" / f"{name}.yaml", text, mode=0o644)


def launch(directory: str | os.PathLike[str], *, name: str = "",
           config: bytes | None = None, extensions: dict[str, str] | None = None,
           python: str | None = None, image: BootImage | None = None) -> SandboxNode:
    """Start a node from `directory` (created if missing); returns once machined runs
    (with `image`: once its firmware holds the node's network namespace).

    The caller owns the node: `terminate()` for a graceful stop, `destroy()` always.
    """
    if os.geteuid() != 0:
        raise FailedPrecondition("a node sandbox needs root (namespaces and mounts)")
    for tool in (UNSHARE, *((firmware_mod.SETPRIV,) if image else ())):
        if shutil.which(tool) is None:
            raise FailedPrecondition(f"util-linux `{tool}` is not installed")
    d = Path(directory).resolve()
    prepare_node_dir(d, config=config, extensions=extensions)
    if image is not None:
        install_boot(d, image)
        return _launch_firmware(d, name=name or d.name, python=python)
    # nothing of the caller's environment (TALOSCONFIG, credentials, ...) enters the node
    env = process_environment({
        constants.SANDBOX_ENV_HOST_MNTNS: os.readlink("/proc/self/ns/mnt"),
        constants.SANDBOX_ENV_ROOTFS: str(d / "rootfs"),
        constants.SANDBOX_ENV_STATE: str(d / "state"),
        constants.SANDBOX_ENV_EPHEMERAL: str(d / "ephemeral"),
        "PYTHONUNBUFFERED": "1",
    })
    argv = [UNSHARE, "--pid", "--fork", "--mount", "--uts", "--net", "--propagation",
            "private", "--kill-child=SIGKILL", "--",
            python or sys.executable, "-m", "talos", "machined", "--sandbox"]
    with open(d / "machined.log", "ab") as logf:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                env=env, cwd="/", start_new_session=True)
    node = SandboxNode(name=name or d.name, directory=d, process=proc)
    deadline = time.monotonic() + 10
    while node.pid == 0 and time.monotonic() < deadline and node.alive():
        node.pid = _child_pid(proc.pid)
        if node.pid == 0:
            time.sleep(0.002)
    return node


def _launch_firmware(d: Path, *, name: str, python: str | None) -> SandboxNode:
    """Start the node's firmware; returns once it holds the node's network namespace."""
    extra = {constants.SANDBOX_ENV_STATE: str(d / "state"), "PYTHONUNBUFFERED": "1"}
    # the watchdog's bound, when the starter sets it (tests shorten it)
    if os.environ.get(firmware_mod.ENV_TRIAL_SECONDS):
        extra[firmware_mod.ENV_TRIAL_SECONDS] = os.environ[firmware_mod.ENV_TRIAL_SECONDS]
    argv = [python or sys.executable, "-m", "talos.provision.firmware", str(d)]
    with open(d / "machined.log", "ab") as logf:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                env=process_environment(extra), cwd="/",
                                start_new_session=True)
    node = SandboxNode(name=name, directory=d, process=proc, firmware=True)
    host_netns = os.readlink("/proc/self/ns/net")
    deadline = time.monotonic() + 30
    while node.alive() and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{proc.pid}/ns/net") != host_netns:
                return node
        time.sleep(0.005)
    if node.alive():
        node.kill()
        raise Unavailable(f"node {name}: its firmware did not make the node's network "
                          f"namespace within 30s: {node.log_tail()}")
    raise Unavailable(f"node {name}: its firmware exited with {proc.returncode}: "
                      f"{node.log_tail()}")
