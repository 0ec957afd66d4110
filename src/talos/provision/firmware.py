"""The "firmware" of a sandbox node booted from the OS image: one host process per node.

`python -m talos.provision.firmware <node dir>` plays the part a machine's firmware and
boot loader play for a VM: it holds the node's network namespace for the node's whole life
(it makes it first thing, before anything else runs; the provisioner moves the node's veth
into it, so the link and its address survive reboots), and loops:

    select  boot slot (talos.machinery.bootslots.select) and save the record
    start   the node's namespaces (`unshare --pid --fork --mount --uts`, no new network
            namespace) running the host's machined as stage 0 with TALOS_SANDBOX_IMAGE
            naming the slot's squashfs and TALOS_SANDBOX_BOOT the boot directory
            (machined/mounts.py makes the image the root and execs the image's machined)
    wait    for the node to end:
              REBOOT_EXIT_CODE  reboot: boot again at once
              0                 power-off: the firmware ends too
              anything else     a crash: logged, booted again after a bounded back-off
                                (CRASH_BACKOFF_BASE doubling up to CRASH_BACKOFF_MAX; a boot
                                that ran STABLE_SECONDS resets the count)

Watchdog: while the booted slot is on trial (an upgrade's first boot), a boot that is not
marked good (bootslots.mark_good, by machined once the node is healthy) within the trial
bound (DEFAULT_TRIAL_SECONDS, or TALOS_BOOT_TRIAL_SECONDS in the firmware's environment) is
killed and booted again: `select` then falls back to the previous slot.

SIGTERM (or SIGINT) is a graceful shutdown: SIGTERM to the node's machined (repeated until
it handles it; SIGKILL for a node that does not within STARTUP_GRACE, or that is not gone
within STOP_GRACE), then the firmware exits 0. The node's processes get SIGKILL when the
firmware dies in any way (`setpriv --pdeathsig` on the `unshare`, whose `--kill-child`
takes the node's PID 1 along).

Each selection, boot outcome and watchdog action is a line of the node's console log
(machined.log: the firmware's stdout and stderr, which the node's machined inherits).
The decisions are pure functions (`outcome`, `crash_delay`, `trial_bound`,
`selection_line`) tested without processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import enum
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from talos.machinery import bootslots, constants
from talos.machinery.environment import process_environment
from talos.machinery.errors import TalosError
from talos.provision.procinfo import catches_sigterm

log = logging.getLogger("talos.firmware")

ENV_TRIAL_SECONDS = "TALOS_BOOT_TRIAL_SECONDS"
#: how long a boot on trial may take to be marked good before the watchdog restarts it
DEFAULT_TRIAL_SECONDS = 300.0
CRASH_BACKOFF_BASE = 0.5
CRASH_BACKOFF_MAX = 30.0
#: a boot that ran this long before crashing starts the back-off over
STABLE_SECONDS = 60.0
#: a node's machined that does not handle SIGTERM within this (still starting) is killed
STARTUP_GRACE = 3.0
#: how long a graceful stop of the node may take before it is killed
STOP_GRACE = 30.0

CLONE_NEWNET = 0x40000000
UNSHARE = "unshare"
SETPRIV = "setpriv"


class Outcome(enum.Enum):
    REBOOT = "reboot"
    POWER_OFF = "power-off"
    CRASH = "crash"


def outcome(returncode: int) -> Outcome:
    """What the end of a boot means (`returncode` as asyncio reports it: -N for signal N;
    `unshare` ends with the signal that ended the node's PID 1)."""
    if returncode == constants.REBOOT_EXIT_CODE:
        return Outcome.REBOOT
    if returncode == 0:
        return Outcome.POWER_OFF
    return Outcome.CRASH


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with {returncode}"


def crash_delay(crashes: int) -> float:
    """Seconds to wait before booting again after `crashes` crashes in a row (bounded)."""
    if crashes <= 0:
        return 0.0
    return float(min(CRASH_BACKOFF_MAX, CRASH_BACKOFF_BASE * 2 ** (crashes - 1)))


def trial_bound(record: bootslots.BootRecord, env: Mapping[str, str]) -> float | None:
    """Seconds the watchdog gives this boot to be marked good; None: not on trial."""
    if not record.on_trial:
        return None
    raw = env.get(ENV_TRIAL_SECONDS, "")
    try:
        value = float(raw) if raw else DEFAULT_TRIAL_SECONDS
    except ValueError:
        value = DEFAULT_TRIAL_SECONDS
    return value if value > 0 else DEFAULT_TRIAL_SECONDS


def selection_line(slot: str, record: bootslots.BootRecord) -> str:
    """The console line of one selection (the record is the one saved for this boot)."""
    line = f"booting slot {slot}: {record.image(slot).describe()}"
    if record.on_trial:
        line += f" (on trial, {record.tries_left} tries left after this one)"
    if record.last_selection:
        line += f"; {record.last_selection}"
    return line


def unshare_net() -> None:
    """Move this process into a new network namespace (Python 3.11 has no os.unshare)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), f"unshare(CLONE_NEWNET): "
                                          f"{os.strerror(ctypes.get_errno())}")


@dataclass(frozen=True)
class NodeDir:
    """The paths of a node directory the firmware boots (see provision/sandbox.py)."""

    root: Path

    @property
    def boot(self) -> Path:
        return self.root / "boot"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def ephemeral(self) -> Path:
        return self.root / "ephemeral"

    @property
    def rootfs(self) -> Path:
        return self.root / "rootfs"


def node_argv(python: str) -> list[str]:
    """The command of one boot: namespaces (but the network's, which the firmware holds)
    around stage 0, killed with the firmware."""
    return [SETPRIV, "--pdeathsig", "KILL", "--",
            UNSHARE, "--pid", "--fork", "--mount", "--uts", "--propagation", "private",
            "--kill-child=SIGKILL", "--", python, "-m", "talos", "machined", "--sandbox"]


def node_env(node: NodeDir, slot: str, starter: Mapping[str, str] | None = None
             ) -> dict[str, str]:
    return process_environment({
        constants.SANDBOX_ENV_HOST_MNTNS: os.readlink("/proc/self/ns/mnt"),
        constants.SANDBOX_ENV_ROOTFS: str(node.rootfs),
        constants.SANDBOX_ENV_STATE: str(node.state),
        constants.SANDBOX_ENV_EPHEMERAL: str(node.ephemeral),
        constants.SANDBOX_ENV_IMAGE: bootslots.rootfs_path(node.boot, slot),
        constants.SANDBOX_ENV_BOOT: str(node.boot),
        "PYTHONUNBUFFERED": "1",
    }, starter=starter)


def _child(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
    except OSError:
        return 0
    return int(kids[0]) if kids else 0


def _signal(pid: int, sig: int) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


class Firmware:
    def __init__(self, node: NodeDir, *, python: str | None = None,
                 env: Mapping[str, str] | None = None, handle_signals: bool = True) -> None:
        self.node = node
        #: the interpreter of stage 0 (the host's machined): the firmware's own
        self.python = python or sys.executable
        self.env = dict(os.environ if env is None else env)
        self.handle_signals = handle_signals
        self._stopping = asyncio.Event()

    def request_stop(self) -> None:
        if not self._stopping.is_set():
            log.info("shutting the node down")
        self._stopping.set()

    async def run(self) -> int:
        if self.handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop)
        crashes = 0
        while not self._stopping.is_set():
            try:
                slot, record = await asyncio.to_thread(self._select)
            except TalosError as exc:
                log.error("cannot choose a boot slot: %s", exc)
                return 1
            log.info("%s", selection_line(slot, record))
            started = time.monotonic()
            returncode = await self._boot(slot, trial_bound(record, self.env))
            if self._stopping.is_set():
                break
            ran = time.monotonic() - started
            result = outcome(returncode)
            if result is Outcome.POWER_OFF:
                log.info("the node powered off")
                return 0
            if result is Outcome.REBOOT:
                log.info("the node rebooted")
                crashes = 0
                continue
            crashes = 1 if ran >= STABLE_SECONDS else crashes + 1
            delay = crash_delay(crashes)
            log.warning("machined %s after %.1fs (crash %d in a row): booting "
                        "again in %.1fs", describe_exit(returncode), ran, crashes, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
        log.info("stopped")
        return 0

    def _select(self) -> tuple[str, bootslots.BootRecord]:
        slot, record = bootslots.select(bootslots.load(self.node.boot))
        bootslots.save(self.node.boot, record)
        return slot, record

    async def _boot(self, slot: str, bound: float | None) -> int:
        """Run the node once; its exit status (after a stop or the watchdog: how it
        ended)."""
        proc = await asyncio.create_subprocess_exec(
            *node_argv(self.python), stdin=asyncio.subprocess.DEVNULL,
            env=node_env(self.node, slot, self.env), cwd="/")
        try:
            async with asyncio.TaskGroup() as tg:
                guard = tg.create_task(self._guard(proc, bound))
                returncode = await proc.wait()
                guard.cancel()
        finally:
            if proc.returncode is None:  # cancelled: never leave the node running
                _signal(proc.pid, signal.SIGKILL)
                await proc.wait()
        return returncode

    async def _guard(self, proc: asyncio.subprocess.Process, bound: float | None) -> None:
        """Stop the node when the firmware is asked to, or when a boot on trial is not
        marked good within `bound` seconds."""
        if bound is not None:
            try:
                await asyncio.wait_for(self._stopping.wait(), bound)
            except TimeoutError:
                record = await asyncio.to_thread(bootslots.load, self.node.boot)
                if record.on_trial:
                    log.warning("watchdog: slot %s was not marked good within "
                                "%gs: restarting the node", record.default, bound)
                    _signal(_child(proc.pid), signal.SIGKILL)
                    _signal(proc.pid, signal.SIGKILL)
                    return
        await self._stopping.wait()
        await self._stop_node(proc)

    async def _stop_node(self, proc: asyncio.subprocess.Process) -> None:
        """SIGTERM the node's machined until it handles it; SIGKILL when it never does."""
        start = time.monotonic()
        while proc.returncode is None:
            elapsed = time.monotonic() - start
            pid = _child(proc.pid)
            if elapsed >= STOP_GRACE or (elapsed >= STARTUP_GRACE
                                         and not (pid and catches_sigterm(pid))):
                log.warning("the node did not stop within %.0fs: killing it",
                            elapsed)
                _signal(pid, signal.SIGKILL)
                _signal(proc.pid, signal.SIGKILL)
                return
            if pid and catches_sigterm(pid):
                _signal(pid, signal.SIGTERM)
            await asyncio.sleep(0.25)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m talos.provision.firmware <node directory>", file=sys.stderr)
        return 2
    try:
        unshare_net()  # first: the node's network namespace lives as long as this process
    except OSError as exc:
        print(f"firmware: cannot make the node's network namespace: {exc.strerror}",
              file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s [%(levelname)s] %(name)s: %(message)s")
    node = NodeDir(Path(args[0]).resolve())
    if not (node.boot / bootslots.RECORD_FILE).is_file():
        print(f"firmware: {node.boot / bootslots.RECORD_FILE} is missing (a node made by "
              "`talosctl cluster create --image`)", file=sys.stderr)
        return 1
    return asyncio.run(Firmware(node).run())


if __name__ == "__main__":
    sys.exit(main())
