"""A command machined runs to completion gets its real exit status and output, even though
machined's reaper takes every child's status (asyncio's child watcher would report 255)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import asyncio
    from talos.machined.system import command
    from talos.machined.system.reaper import Reaper

    async def main():
        reaper = Reaper(reap_all=True)   # as PID 1: waitpid(-1) on every SIGCHLD
        reaper.install(asyncio.get_running_loop())
        codes = set()
        for _ in range(20):
            rc, out, err = await command.run(
                reaper, ["sh", "-c", "echo out; echo err >&2; exit 7"],
                env={"PATH": "/usr/bin:/bin"}, limit=30)
            codes.add((rc, out, err))
        print(sorted(codes))
        try:
            await command.run(reaper, ["sleep", "30"], env={"PATH": "/usr/bin:/bin"},
                              limit=0.2)
        except TimeoutError:
            print("killed after the limit")

    asyncio.run(main())
""")


def test_exit_status_and_output_survive_the_node_reaper() -> None:
    res = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["[(7, 'out\\n', 'err\\n')]", "killed after the limit"]
