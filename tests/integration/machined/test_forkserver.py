"""apid and trustd are forked from machined's fork server (system/forkserver.py): the
forked process is the server's child, runs with the explicit environment and its output in
the service log, reports its exit code, stops on signals, and dies with machined."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from talos.machined.system.forkserver import ForkServer
from talos.machined.system.logbuffer import LogBuffer
from talos.machined.system.reaper import Reaper
from talos.machined.system.runner import ProcessRunner
from talos.machined.system.service import ProcessSpec
from tests.leftovers import Proc, alive, descendants


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").decode().split("\0")


CHILD = ("import os, sys\n"
         "mark = 'TALOS_TEST_MARK'\n"
         "print('env', sorted(os.environ).count(mark), os.environ[mark])\n"
         "print('argv', sys.argv[1:], 'session', os.getsid(0) == os.getpid(), flush=True)\n"
         "sys.stderr.write('to stderr\\n')\n"
         "sys.exit(int(sys.argv[1]))\n")


async def test_a_forked_process_is_the_fork_servers_child_with_its_own_env_log_and_exit():
    reaper = Reaper(reap_all=False)
    server = ForkServer(reaper.register, preload=("json",))
    with reaper.installed(asyncio.get_running_loop()):
        try:
            log = LogBuffer()
            runner = ProcessRunner(ProcessSpec(argv=(sys.executable, "-c", CHILD, "3"),
                                               env=(("TALOS_TEST_MARK", "yes"),), fork=True),
                                   reaper, log, server)
            pid = await runner.launch()
            assert runner.forked
            assert server.pid is not None
            # it may be gone already: before the open (FileNotFoundError) or between the open
            # and the read of its stat (ESRCH, seen in CI)
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                assert _ppid(pid) == server.pid
            assert await runner.wait() == 3
            runner.drain()
            out = log.snapshot().decode()
            assert "env 1 yes" in out
            assert "argv ['3'] session True" in out
            assert "to stderr" in out
            # a second one, stopped with SIGTERM (to its process group, at once) like any
            # service
            sleeper = ProcessRunner(ProcessSpec(argv=(sys.executable, "-c",
                                                      "import time; time.sleep(1000)"),
                                                fork=True), reaper, LogBuffer(), server)
            spid = await sleeper.launch()
            assert _ppid(spid) == server.pid
            # ps shows the service's command line and name, not the server's
            assert _cmdline(spid) == [sys.executable, "-c", "import time; time.sleep(1000)"]
            assert _cmdline(server.pid)[1:] == ["-m", "talos.machined.system.forkserver"]
            assert await sleeper.stop(grace=30) == -signal.SIGTERM
        finally:
            server.close()
            if server.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(server.pid, signal.SIGKILL)
                await asyncio.sleep(0)


async def test_a_spec_the_server_cannot_fork_is_spawned():
    reaper = Reaper(reap_all=False)
    server = ForkServer(reaper.register)
    with reaper.installed(asyncio.get_running_loop()):
        runner = ProcessRunner(ProcessSpec(argv=("/bin/sh", "-c", "exit 4"), fork=True),
                               reaper, LogBuffer(), server)
        pid = await runner.launch()
        assert not runner.forked and server.pid is None
        assert _ppid(pid) == os.getpid() or await runner.wait() == 4
        assert await runner.wait() == 4


DRIVER = """
import asyncio, sys
from talos.machined.system.forkserver import ForkServer
from talos.machined.system.logbuffer import LogBuffer
from talos.machined.system.reaper import Reaper
from talos.machined.system.runner import ProcessRunner
from talos.machined.system.service import ProcessSpec

async def main():
    reaper = Reaper(reap_all=True)
    reaper.install(asyncio.get_running_loop())
    server = ForkServer(reaper.register, preload=("json",))
    pids = []
    for _ in range(2):
        r = ProcessRunner(ProcessSpec(argv=(sys.executable, "-c",
                                            "import time; time.sleep(1000)"), fork=True),
                          reaper, LogBuffer(), server)
        pids.append(await r.launch())
    print(server.pid, *pids, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_sigkill_of_machined_kills_the_fork_server_and_the_forked_services(
        tmp_path: Path):
    proc = await asyncio.to_thread(subprocess.Popen, [sys.executable, "-c", DRIVER],
                                   stdout=subprocess.PIPE, cwd=tmp_path)
    had: list[Proc] = []
    try:
        assert proc.stdout is not None
        line = await asyncio.to_thread(proc.stdout.readline)
        server_pid, *children = (int(x) for x in line.split())
        had = descendants(proc.pid)
        assert {p.pid for p in had} >= {server_pid, *children}
        assert all(_ppid(c) == server_pid for c in children)
        proc.kill()
        await asyncio.to_thread(proc.wait)
        for _ in range(300):  # they die asynchronously: wait (bounded) for the last one
            if not any(alive(p) for p in had):
                break
            await asyncio.sleep(0.1)
        survivors = [p.describe() for p in had if alive(p)]
        assert not survivors, f"outlived machined: {survivors}"
    finally:
        if proc.poll() is None:
            proc.kill()
            await asyncio.to_thread(proc.wait)
        if proc.stdout is not None:
            proc.stdout.close()
        for p in had:
            if alive(p):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGKILL)
