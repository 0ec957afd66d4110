"""Services die with machined, even when machined is killed with SIGKILL.

Two mechanisms, because neither covers everything alone:

- every service process gets a parent-death signal (SIGKILL when the thread that spawned it,
  the event loop's, ends): `setpriv --pdeathsig KILL` sets it between fork and exec, so no
  Python runs in the forked child of a threaded process and `subprocess` keeps using vfork.
- the signal reaches only the direct child. Its children (in the service's process group,
  each service leads its own) are killed by the *group guard*: a tiny process started with
  machined, in its own session, that learns every service's process group over a pipe and,
  when the pipe ends (machined exited or was killed), SIGKILLs the groups still listed.

In a node sandbox machined is PID 1 of the node's PID namespace, whose end kills everything
in it; there the guard is not started. Not covered: a descendant that leaves its process
group (setsid: containerd's shims do) outlives a plain-mode machined killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import signal
import subprocess
import sys

from talos.machinery.environment import process_environment

log = logging.getLogger(__name__)

#: the guard: `+PGID` / `-PGID` lines on stdin; at EOF every listed group gets SIGKILL
GUARD_CODE = """\
import os, signal, sys
groups = set()
for line in sys.stdin.buffer:
    op, pgid = line[:1], int(line[1:])
    (groups.add if op == b"+" else groups.discard)(pgid)
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


@functools.cache
def _setpriv() -> str | None:
    path = shutil.which("setpriv")
    if path is None:
        log.warning("util-linux setpriv not found: services will not get a parent-death "
                    "signal")
    return path


def with_parent_death_signal(argv: tuple[str, ...]) -> tuple[str, ...]:
    """`argv` run so that it gets SIGKILL when its parent thread ends (unchanged without
    setpriv). `argv[0]` must be a path (setpriv execs it with its own PATH search)."""
    setpriv = _setpriv()
    if setpriv is None:
        return argv
    return (setpriv, "--pdeathsig", "KILL", "--", *argv)


class GroupGuard:
    """The guard process of a plain-mode machined (see the module docstring)."""

    def __init__(self, python: str | None = None) -> None:
        rfd, wfd = os.pipe()
        try:
            proc = subprocess.Popen([python or sys.executable, "-I", "-S", "-c", GUARD_CODE],
                                    stdin=rfd, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, close_fds=True, cwd="/",
                                    env=process_environment(),
                                    start_new_session=True)
        except BaseException:
            os.close(wfd)
            raise
        finally:
            os.close(rfd)
        # the guard is reaped by machined's reaper like any orphan; Popen must not wait
        proc.returncode = 0
        self.pid = proc.pid
        os.set_blocking(wfd, False)
        self._wfd: int | None = wfd

    def _send(self, line: str) -> None:
        if self._wfd is None:
            return
        try:
            os.write(self._wfd, line.encode())
        except OSError as exc:  # gone, or (never in practice) a full pipe
            log.warning("group guard unreachable (%s): services may outlive machined", exc)

    def watch(self, pgid: int) -> None:
        self._send(f"+{pgid}\n")

    def release(self, pgid: int) -> None:
        self._send(f"-{pgid}\n")

    def close(self) -> None:
        """End the guard (it kills the groups still listed, normally none)."""
        if self._wfd is not None:
            with contextlib.suppress(OSError):
                os.close(self._wfd)
            self._wfd = None


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
