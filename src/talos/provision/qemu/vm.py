"""Start one node's VM: qemu, detached from talosctl, found again by `cluster destroy`.

Layout of a VM node's directory:
    disk.raw      its disk (sparse; the metal image with --uefi, else empty)
    ovmf-vars.fd  its UEFI variables (--uefi only)
    console.log   its serial console (the kernel's and machined's output)
    qemu.log      qemu's own messages (and the launcher's)
    launch.json   what the launcher runs
    config.yaml   the machine config the launcher serves (0600)

A launcher per VM (talos.provision.qemu.launcher) runs qemu and serves the node's config
for the VM's whole life, in a session of its own with nothing of the caller's environment
but the node's marker (`TALOS_SANDBOX_STATE=<node directory>`), which qemu inherits:
`cluster destroy` finds both by it, as it finds a sandbox node, and stops them by pid
(qemu exits on SIGTERM, the launcher stops qemu on SIGTERM and ends with it).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from talos.machinery import constants
from talos.machinery.atomic import write_atomic
from talos.machinery.environment import process_environment
from talos.machinery.errors import FailedPrecondition
from talos.provision.qemu import launcher

CONSOLE_LOG = "console.log"
QEMU_LOG = "qemu.log"
DISK = "disk.raw"
OVMF_VARS = "ovmf-vars.fd"
#: how long the launcher may take to start qemu (a Python start under load, then qemu's
#: own first half second)
LAUNCH_TIMEOUT = 60.0


def make_disk(path: Path, size_mib: int) -> None:
    """An empty sparse raw disk of `size_mib`."""
    with open(path, "wb") as f:
        f.truncate(size_mib << 20)


@dataclass(frozen=True)
class Launched:
    #: the launcher (serves the config, runs qemu, lives as long as the VM)
    launcher_pid: int
    qemu_pid: int


def launch(directory: Path, spec: launcher.LaunchSpec, config: bytes) -> Launched:
    """Start the VM's launcher (talos.provision.qemu.launcher) on `spec` and `config` (both
    stored under `directory`); returns once qemu survived its start. Fails naming the last
    line of qemu.log (qemu's own message: a tap in use, a file that is no kernel) when the
    launcher exits first."""
    write_atomic(directory / launcher.CONFIG, config)
    spec.save(directory)
    env = process_environment({constants.SANDBOX_ENV_STATE: str(directory)})
    with open(directory / QEMU_LOG, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "talos.provision.qemu.launcher",
                                 str(directory)], stdin=subprocess.DEVNULL, stdout=log,
                                stderr=log, env=env, cwd=str(directory),
                                start_new_session=True)
    ready = directory / launcher.READY
    deadline = time.monotonic() + LAUNCH_TIMEOUT
    while proc.poll() is None and not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if proc.poll() is not None or not ready.exists():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        try:
            said = (directory / QEMU_LOG).read_text(errors="replace").strip()
        except OSError:
            said = ""
        raise FailedPrecondition(f"qemu exited with {proc.returncode}: "
                                 f"{said.splitlines()[-1] if said else '(no message)'}")
    # the launcher outlives talosctl by design (destroy stops it and qemu by pid): tell the
    # Popen object not to warn about a child still running when it is collected
    proc.returncode = 0
    return Launched(proc.pid, int(ready.read_text()))


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def console_tail(path: str, lines: int = 20) -> str:
    try:
        text = Path(path).read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return "(no console log)"
    return "\n".join(text) or "(the console is still empty)"

