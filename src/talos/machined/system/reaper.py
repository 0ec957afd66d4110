"""The one SIGCHLD reaper of machined.

Every child exit goes through `waitpid(-1, WNOHANG)` here: the status of a pid somebody
registered is handed to its owner's future; anything else (an orphan re-parented to PID 1, or
to machined as a child subreaper) is reaped and counted. Nothing else in machined may wait for
children (no asyncio child watchers, no `Popen.wait`).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from talos.machined.system.groupguard import GroupGuard

log = logging.getLogger(__name__)

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make orphans of our descendants re-parent to us (as they would to PID 1)."""
    if os.getpid() == 1:
        return True
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except OSError:
        return False


class Reaper:
    """Dispatches exit statuses of children to their owners and reaps orphans.

    `reap_all=False` waits only for registered pids; in-process tests use it so that the
    reaper never steals children of the test runner. `guard` (plain mode) is told about the
    process group of every child the runners spawn.
    """

    def __init__(self, *, reap_all: bool = True, guard: GroupGuard | None = None) -> None:
        self.reap_all = reap_all
        #: plain mode: kills the services' process groups should machined die (groupguard)
        self.guard = guard
        self._owners: dict[int, asyncio.Future[int]] = {}
        self._early: dict[int, int] = {}
        self.orphans_reaped = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        loop.add_signal_handler(signal.SIGCHLD, self.reap)
        # children that exited before the handler existed
        loop.call_soon(self.reap)

    def uninstall(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_signal_handler(signal.SIGCHLD)
        self._loop = None

    @contextmanager
    def installed(self, loop: asyncio.AbstractEventLoop) -> Iterator[Reaper]:
        self.install(loop)
        try:
            yield self
        finally:
            self.uninstall()

    def register(self, pid: int) -> asyncio.Future[int]:
        """Future with the exit code of `pid` (negative signal number if killed).

        Call it on the loop thread right after spawning, before yielding to the loop.
        """
        loop = self._loop or asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        if pid in self._early:
            fut.set_result(self._early.pop(pid))
        else:
            self._owners[pid] = fut
        return fut

    def reap(self) -> None:
        if self.reap_all:
            self._reap_any()
        else:
            self._reap_registered()

    def _deliver(self, pid: int, status: int) -> None:
        code = os.waitstatus_to_exitcode(status)
        fut = self._owners.pop(pid, None)
        if fut is None:
            self.orphans_reaped += 1
            log.debug("reaped orphan pid %d (exit %d)", pid, code)
            return
        if not fut.done():
            fut.set_result(code)

    def _reap_any(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._deliver(pid, status)

    def _reap_registered(self) -> None:
        for pid in list(self._owners):
            try:
                got, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                fut = self._owners.pop(pid)
                if not fut.done():
                    fut.set_result(-1)
                continue
            if got == pid:
                self._deliver(pid, status)
