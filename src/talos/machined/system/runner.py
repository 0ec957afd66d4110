"""Runs one process of a service: spawn, capture output into its log, wait, stop.

Children are spawned on the loop thread (`subprocess.Popen` forks with vfork; it is fast)
and registered with the reaper before control returns to the loop, so the reaper can never
see an exit it does not know the owner of. Popen's own waiting is never used.

Each process leads its own process group and dies with machined (see `groupguard`): it gets
a parent-death signal, which fires when the spawning thread ends, and the loop thread lives
as long as machined serves. Once the process has exited, what is left of its group (children
it did not wait for) is killed, as Talos does with a service's cgroup.

A spec with `fork` set is forked by the fork server (`forkserver.py`) when one is given and
forking works; its exit status then comes from the server, not from the reaper. Any failure
of the server falls back to spawning.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import shutil
import signal
import subprocess

from talos.machined.system.forkserver import ForkServer, ForkServerError
from talos.machined.system.groupguard import kill_group, with_parent_death_signal
from talos.machined.system.logbuffer import LogBuffer
from talos.machined.system.reaper import Reaper
from talos.machined.system.service import ProcessSpec
from talos.machinery.environment import process_environment

logger = logging.getLogger(__name__)


class ProcessRunner:
    def __init__(self, spec: ProcessSpec, reaper: Reaper, log: LogBuffer,
                 forkserver: ForkServer | None = None) -> None:
        self.spec = spec
        self.reaper = reaper
        self.log = log
        self.forkserver = forkserver
        #: whether the running process came from the fork server
        self.forked = False
        self.pid: int | None = None
        self._popen: subprocess.Popen[bytes] | None = None
        self._exit: asyncio.Future[int] | None = None
        self._rfd: int | None = None

    async def launch(self) -> int:
        """Start the process: forked by the fork server when the spec allows it and the
        server works, spawned otherwise. Its pid."""
        if self.spec.fork and self.forkserver is not None:
            try:
                return await self._fork(self.forkserver)
            except ForkServerError as exc:
                logger.warning("cannot fork %s, spawning it: %s", self.spec.argv[-1:], exc)
        return self.start()

    def _env(self) -> dict[str, str]:
        return (process_environment(dict(self.spec.env)) if self.spec.base_env
                else dict(self.spec.env))

    async def _fork(self, server: ForkServer) -> int:
        loop = asyncio.get_running_loop()
        rfd, wfd = os.pipe()
        try:
            pid, exit_fut = await server.spawn(self.spec.argv, self._env(), self.spec.cwd, wfd)
        except BaseException:
            os.close(rfd)
            raise
        finally:
            os.close(wfd)
        if self.reaper.guard is not None:
            self.reaper.guard.watch(pid)
        self.forked = True
        self.pid = pid
        self._exit = exit_fut
        self._exit.add_done_callback(self._on_exit)
        os.set_blocking(rfd, False)
        self._rfd = rfd
        loop.add_reader(rfd, self._on_output)
        return pid

    def start(self) -> int:
        """Spawn the process (see `launch`). Its pid."""
        loop = asyncio.get_running_loop()
        env = self._env()
        argv = self.spec.argv
        # setpriv reports a missing program only in the log: keep the spawn error instead
        if shutil.which(argv[0], path=env.get("PATH", os.defpath)) is None:
            if os.sep in argv[0] and os.path.exists(argv[0]):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), argv[0])
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), argv[0])
        rfd, wfd = os.pipe()
        try:
            popen = subprocess.Popen(
                list(with_parent_death_signal(argv)), stdin=subprocess.DEVNULL, stdout=wfd,
                stderr=subprocess.STDOUT, cwd=self.spec.cwd, env=env, close_fds=True,
                start_new_session=True)
        except BaseException:
            os.close(rfd)
            raise
        finally:
            os.close(wfd)
        if self.reaper.guard is not None:
            self.reaper.guard.watch(popen.pid)
        self._popen = popen
        self.pid = popen.pid
        self._exit = self.reaper.register(popen.pid)
        self._exit.add_done_callback(self._on_exit)
        os.set_blocking(rfd, False)
        self._rfd = rfd
        loop.add_reader(rfd, self._on_output)
        return popen.pid

    def _on_exit(self, fut: asyncio.Future[int]) -> None:
        if self._popen is not None and not fut.cancelled():
            # tell Popen the child is gone, so it never waits for it (or warns) itself
            self._popen.returncode = fut.result()
        if self.pid is not None:
            # leftovers of the group (children of the process) go too
            kill_group(self.pid)
            if self.reaper.guard is not None:
                self.reaper.guard.release(self.pid)

    def _on_output(self) -> None:
        assert self._rfd is not None
        try:
            data = os.read(self._rfd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.log.write(data)
        else:
            self._close_pipe()

    def _close_pipe(self) -> None:
        if self._rfd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._rfd)
            os.close(self._rfd)
            self._rfd = None

    @property
    def exited(self) -> bool:
        return self._exit is not None and self._exit.done()

    async def wait(self) -> int:
        assert self._exit is not None, "process not started"
        return await asyncio.shield(self._exit)

    def signal(self, sig: int) -> None:
        if self.pid is None or self.exited:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    async def stop(self, grace: float) -> int:
        """SIGTERM the process group, SIGKILL it after `grace` seconds; the exit code."""
        assert self._exit is not None
        if not self._exit.done():
            self.signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(grace):
                    await asyncio.shield(self._exit)
            except TimeoutError:
                self.signal(signal.SIGKILL)
        code = await asyncio.shield(self._exit)  # its group's leftovers are killed then
        self.drain()
        return code

    def drain(self) -> None:
        """Read what is left in the pipe and close it."""
        if self._rfd is None:
            return
        while True:
            try:
                data = os.read(self._rfd, 65536)
            except (BlockingIOError, OSError):
                break
            if not data:
                break
            self.log.write(data)
        self._close_pipe()

    def kill_now(self) -> None:
        """Synchronous last resort (cancellation): SIGKILL the group, close the pipe."""
        self.signal(signal.SIGKILL)
        self._close_pipe()
