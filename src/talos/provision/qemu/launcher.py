"""One VM's launcher: `python -m talos.provision.qemu.launcher <node directory>`.

`cluster create qemu` starts one per VM, detached, with the clean environment of
talos.machinery.environment and the node's marker (`TALOS_SANDBOX_STATE=<node directory>`),
so `cluster destroy` finds the launcher and its qemu as it finds a sandbox node. It lives
as long as the VM does and

- serves the node's machine config (`talos.config=` on the bridge gateway, to the node's
  address only) for the VM's whole life: a node whose STATE is a tmpfs (not installed)
  downloads it again on every boot;
- runs qemu WITHOUT `-no-reboot`: a guest reboot(2) resets the VM inside the same qemu
  (the same disk, kernel, initramfs and command line, the NIC on the same tap), while a
  guest power-off (ACPI S5) ends qemu with status 0. qemu itself tells the two apart, with
  no event to interpret; upstream's launcher restarts qemu instead, to the same effect;
- ends when qemu ends (power-off, or qemu's own failure: its status is the launcher's),
  and on SIGTERM/SIGINT/SIGHUP stops qemu (SIGTERM) and then exits.

Files it reads and writes in the node directory: `launch.json` (the VM and where to serve
the config), `config.yaml` (the config, mode 0600), `launcher.ready` (qemu's pid, written
once qemu has survived its first half second) and `config.fetched` (written when the node
first downloaded its config).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any

from talos.imager import qemu
from talos.machinery.atomic import write_atomic
from talos.provision.qemu.configserver import ConfigServer

SPEC = "launch.json"
CONFIG = "config.yaml"
READY = "launcher.ready"
FETCHED = "config.fetched"
QEMU_LOG = "qemu.log"
#: qemu refuses a bad argument, a missing file or a busy tap within this long
STARTUP = 0.5


@dataclass(frozen=True)
class LaunchSpec:
    node: str
    #: the node's address: the only client the config is served to
    address: str
    #: where the config server listens (the bridge gateway)
    gateway: str
    #: the VM; its cmdline gets `talos.config=<URL>` appended by the launcher
    vm: qemu.VM

    def save(self, directory: Path) -> None:
        write_atomic(directory / SPEC, json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, directory: Path) -> LaunchSpec:
        raw: dict[str, Any] = json.loads((directory / SPEC).read_text())
        vm = dict(raw["vm"])
        vm["host_forwards"] = tuple(tuple(f) for f in vm.get("host_forwards", ()))
        return cls(node=raw["node"], address=raw["address"], gateway=raw["gateway"],
                   vm=qemu.VM(**vm))


def _mark_fetched(server: ConfigServer, directory: Path) -> None:
    server.wait_all_fetched()
    write_atomic(directory / FETCHED, b"")


def run(directory: Path) -> int:
    spec = LaunchSpec.load(directory)
    body = (directory / CONFIG).read_bytes()
    proc: subprocess.Popen[bytes] | None = None
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if proc is not None and proc.poll() is None:
            proc.terminate()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    with ConfigServer(spec.gateway, {spec.node: (spec.address, body)}) as server:
        threading.Thread(target=_mark_fetched, args=(server, directory), daemon=True,
                         name="config-fetched").start()
        vm = replace(spec.vm, cmdline=f"{spec.vm.cmdline} talos.config={server.url(spec.node)}",
                     no_reboot=False)
        if stopping:
            return 0
        with open(directory / QEMU_LOG, "ab") as log:
            proc = subprocess.Popen(qemu.argv(vm), stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=log, cwd=str(directory))
        if stopping:  # a signal between the check and Popen
            proc.terminate()
        try:
            status = proc.wait(STARTUP)
        except subprocess.TimeoutExpired:
            write_atomic(directory / READY, str(proc.pid))
            status = proc.wait()
    return 0 if stopping else (status if status >= 0 else 128 - status)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m talos.provision.qemu.launcher NODE_DIRECTORY", file=sys.stderr)
        return 2
    try:
        return run(Path(args[0]))
    except (OSError, ValueError, KeyError, TypeError) as e:
        # the launcher's log is qemu.log: create names its last line when the VM fails
        print(f"launcher: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
