"""One short command run by machined to completion (`ctr images pull`, ...), its exit status
taken from the node's reaper.

machined reaps every child itself (system/reaper.py: `waitpid(-1)` on SIGCHLD, as PID 1
must), so asyncio's own child watcher cannot be used for a subprocess: the reaper takes the
status first and asyncio reports 255 ("Unknown child process"). Here the child is spawned
and registered with the reaper before control returns to the loop, and its output is
drained by threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence

from talos.machined.system.reaper import Reaper


def _drain(fd: int) -> bytes:
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def _spawn(reaper: Reaper, argv: Sequence[str], env: Mapping[str, str]
           ) -> tuple[subprocess.Popen[bytes], asyncio.Future[int], int, int]:
    """Start `argv` and register it with the reaper before the loop can handle its SIGCHLD
    (fork and exec: as quick as the supervisor's own spawns)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out_w,
                                stderr=err_w, env=dict(env), close_fds=True)
    except BaseException:
        for fd in (out_r, err_r):
            os.close(fd)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    return proc, reaper.register(proc.pid), out_r, err_r


async def run(reaper: Reaper, argv: Sequence[str], *, env: Mapping[str, str],
              limit: float) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `argv`; killed when cancelled or after `limit` s."""
    proc, exited, out_r, err_r = _spawn(reaper, argv, env)
    readers = asyncio.gather(asyncio.to_thread(_drain, out_r), asyncio.to_thread(_drain, err_r))
    try:
        code = await asyncio.wait_for(asyncio.shield(exited), limit)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        await asyncio.shield(exited)
        proc.returncode = exited.result()
        await readers
        raise
    proc.returncode = code  # Popen never waits for it itself
    out, err = await readers
    return code, out.decode(errors="replace"), err.decode(errors="replace")
