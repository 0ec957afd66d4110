"""Start one node's VM: qemu, detached from talosctl, found again by `cluster destroy`.

Layout of a VM node's directory:
    disk.raw      its disk (sparse; the metal image with --uefi, else empty)
    ovmf-vars.fd  its UEFI variables (--uefi only)
    console.log   its serial console (the kernel's and machined's output)
    qemu.log      qemu's own messages

qemu runs in a session of its own with nothing of the caller's environment but the
node's marker (`TALOS_SANDBOX_STATE=<node directory>`): `cluster destroy` finds a VM by it,
as it finds a sandbox node, and stops it by pid (qemu exits on SIGTERM).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from talos.imager import qemu
from talos.machinery import constants
from talos.machinery.environment import process_environment
from talos.machinery.errors import FailedPrecondition

CONSOLE_LOG = "console.log"
QEMU_LOG = "qemu.log"
DISK = "disk.raw"
OVMF_VARS = "ovmf-vars.fd"


def make_disk(path: Path, size_mib: int) -> None:
    """An empty sparse raw disk of `size_mib`."""
    with open(path, "wb") as f:
        f.truncate(size_mib << 20)


def launch(directory: Path, vm: qemu.VM) -> int:
    """Start `vm` (its files under `directory`); the host pid of qemu. Fails naming qemu's
    own message when it exits at once (a tap in use, a missing file)."""
    env = process_environment({constants.SANDBOX_ENV_STATE: str(directory)})
    with open(directory / QEMU_LOG, "ab") as log:
        proc = subprocess.Popen(qemu.argv(vm), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=log, env=env, cwd=str(directory),
                                start_new_session=True)
    # qemu refuses a bad argument or a busy tap within a moment
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if proc.poll() is not None:
        try:
            said = (directory / QEMU_LOG).read_text(errors="replace").strip()
        except OSError:
            said = ""
        raise FailedPrecondition(f"qemu exited with {proc.returncode}: "
                                 f"{said.splitlines()[-1] if said else '(no message)'}")
    # the VM outlives talosctl by design (destroy stops it by pid): tell the Popen object
    # not to warn about a child still running when it is collected
    proc.returncode = 0
    return proc.pid


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

