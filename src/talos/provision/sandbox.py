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

from talos.machinery import constants
from talos.machinery.atomic import write_atomic
from talos.machinery.environment import process_environment
from talos.machinery.errors import FailedPrecondition, Unavailable

UNSHARE = "unshare"


@dataclass
class SandboxNode:
    name: str
    directory: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    #: host pid of machined (PID 1 inside the node)
    pid: int = 0

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
            if self.pid == 0:
                self.pid = _child_pid(self.process.pid)
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
        """SIGTERM machined (graceful shutdown) and wait for the sandbox to end."""
        if self.alive() and self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.wait()

    def kill(self) -> None:
        """SIGKILL machined: the PID namespace, and everything in it, goes with it."""
        for pid in (self.pid, self.process.pid):
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
           python: str | None = None) -> SandboxNode:
    """Start a node from `directory` (created if missing); returns once machined runs.

    The caller owns the node: `terminate()` for a graceful stop, `destroy()` always.
    """
    if os.geteuid() != 0:
        raise FailedPrecondition("a node sandbox needs root (namespaces and mounts)")
    if shutil.which(UNSHARE) is None:
        raise FailedPrecondition("util-linux `unshare` is not installed")
    d = Path(directory).resolve()
    prepare_node_dir(d, config=config, extensions=extensions)
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
