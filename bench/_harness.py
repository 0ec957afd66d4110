"""What every benchmark shares: an overall deadline, an orderly teardown and its JSON output.

A benchmark's `main(bench)` returns its figures (a dict, printed as JSON). Around it:

* a deadline (`--deadline SECONDS`, or `$BENCH_DEADLINE`, or the benchmark's default): when
  it passes the benchmark stops and prints `{"error": "deadline of Ns passed while waiting
  for <what>"}` where <what> is the last thing the benchmark said it was waiting for
  (`bench.waiting_for(...)`: a polling loop updates it with what it last saw);
* SIGTERM and SIGINT become the same orderly teardown (`{"error": "interrupted by SIGTERM
  while waiting for <what>"}`);
* the teardown, on every exit (normal, exception, deadline, signal), runs the benchmark's own
  cleanups newest first (`bench.cleanup(fn)`, `bench.tempdir()`, `bench.track(pid)`:
  SIGTERM, a grace period, SIGKILL) and then SIGKILLs every process still descending from
  this one: the process is a child subreaper, so orphans of its children (a sandbox's
  `unshare`, a service of a killed machined) are reparented here and found too.

Any failure exits 1 with an "error" field; a benchmark never leaves a process, sandbox,
link, mount or temp dir behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType
from typing import Any

import psutil

PR_SET_CHILD_SUBREAPER = 36
#: how long a tracked process gets between SIGTERM and SIGKILL at teardown
GRACE_S = 10.0


class Stop(BaseException):  # a request to stop, not an error
    """Raised (sync benchmarks) when the deadline passes or a signal arrives."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class Bench:
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.started = time.monotonic()
        self._waiting = "the benchmark to start"
        self._cleanups: list[tuple[str, Callable[[], object]]] = []
        self._problems: list[str] = []
        self._tempdirs: list[Path] = []

    # -- what the benchmark is doing -----------------------------------------------------------

    def waiting_for(self, what: str) -> None:
        """Say what the benchmark waits for now (named in the error if the deadline passes)."""
        self._waiting = what

    @property
    def waiting(self) -> str:
        return self._waiting

    def remaining(self) -> float:
        return max(0.0, self.deadline - (time.monotonic() - self.started))

    # -- what it started -----------------------------------------------------------------------

    def cleanup(self, what: str, fn: Callable[[], object]) -> None:
        """Run `fn` at teardown (newest first); `what` names it if it fails."""
        self._cleanups.append((what, fn))

    def tempdir(self, prefix: str) -> Path:
        """A temp dir removed at teardown, after every process is gone (and again at each
        teardown: a thread still launching something may write into it late)."""
        path = Path(tempfile.mkdtemp(prefix=prefix))
        self._tempdirs.append(path)
        return path

    def track(self, pid: int) -> None:
        """A process this benchmark started: SIGTERM, then SIGKILL after GRACE_S, at teardown
        (before the final sweep of descendants), unless it has already exited."""
        try:
            proc = psutil.Process(pid)
        except psutil.NoSuchProcess:
            return
        self.cleanup(f"stop pid {pid}", lambda: _stop([proc], GRACE_S))

    def teardown(self) -> list[str]:
        """Undo everything (again: a no-op the second time); returns what could not be
        undone (empty when all went)."""
        problems = self._problems
        while self._cleanups:
            what, fn = self._cleanups.pop()
            try:
                fn()
            except Exception as e:  # go on with the rest; report it
                problems.append(f"{what}: {e}")
        # every process still below this one (subreaper: orphans included)
        for _ in range(50):
            left = _descendants()
            if not left:
                break
            _stop(left, 0.0)
        else:
            problems.append("processes still running: " +
                            ", ".join(str(p.pid) for p in _descendants()))
        for path in self._tempdirs:
            shutil.rmtree(path, ignore_errors=True)
            if path.exists():
                problems.append(f"could not remove {path}")
        return problems


def _descendants() -> list[psutil.Process]:
    try:
        kids = psutil.Process().children(recursive=True)
    except psutil.Error:
        return []
    out = []
    for p in kids:
        with contextlib.suppress(psutil.Error):
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
                continue
            _reap(p.pid)
    return out


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _stop(procs: list[psutil.Process], grace: float) -> None:
    """SIGTERM (grace > 0) or SIGKILL each still-running process, wait, then SIGKILL what
    is left; children of this process are reaped."""
    alive = []
    for p in procs:
        try:
            if p.status() == psutil.STATUS_ZOMBIE:
                _reap(p.pid)
                continue
            p.send_signal(signal.SIGTERM if grace > 0 else signal.SIGKILL)
            alive.append(p)
        except psutil.Error:
            continue
    _gone, still = psutil.wait_procs(alive, timeout=grace if grace > 0 else 5.0)
    for p in still:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(still, timeout=5.0)
    for p in procs:
        _reap(p.pid)


def _become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _deadline(default: float) -> float:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--deadline", type=float, default=None)
    args, rest = p.parse_known_args(sys.argv[1:])
    sys.argv[1:] = rest
    if args.deadline is not None:
        return float(args.deadline)
    env = os.environ.get("BENCH_DEADLINE", "")
    return float(env) if env else default


def _finish(bench: Bench, result: dict[str, Any] | None, error: str) -> int:
    problems = bench.teardown()
    if problems:
        error = "; ".join(filter(None, [error, "teardown: " + "; ".join(problems)]))
    if error:
        out: dict[str, Any] = {"error": error}
        if result:
            out["partial"] = result
        print(json.dumps(out, indent=2), flush=True)
        return 1
    print(json.dumps(result, indent=2), flush=True)
    return 0


def _error_text(e: BaseException) -> str:
    text = str(e).strip()
    return text or type(e).__name__.replace("Error", " error").lower()


def run(main: Callable[[Bench], dict[str, Any]], *, deadline: float,
        needs_root: str = "") -> None:
    """Run a synchronous benchmark under the deadline and teardown; exits the process."""
    if needs_root and os.geteuid() != 0:
        print(json.dumps({"error": f"needs root ({needs_root})"}))
        sys.exit(1)
    bench = Bench(_deadline(deadline))
    _become_subreaper()

    fired: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        if fired:  # once: a second signal must not cut the teardown short
            return
        fired.append(signum)
        if signum == signal.SIGALRM:
            raise Stop(f"deadline of {bench.deadline:g}s passed while waiting for: "
                       f"{bench.waiting}")
        raise Stop(f"interrupted by {signal.Signals(signum).name} while waiting for: "
                   f"{bench.waiting}")

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
        signal.signal(sig, stop)
    signal.setitimer(signal.ITIMER_REAL, bench.deadline)
    result: dict[str, Any] | None = None
    error = ""
    try:
        result = main(bench)
    except Stop as e:
        error = e.why
    except SystemExit as e:  # raise SystemExit("why"): a failure like any other
        error = f"{e.code} (while waiting for: {bench.waiting})"
    except Exception as e:  # every failure becomes the JSON error
        error = f"{_error_text(e)} (while waiting for: {bench.waiting})"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        # a second signal must not cut the teardown short
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
    sys.exit(_finish(bench, result, error))


def run_async(main: Callable[[Bench], Awaitable[dict[str, Any]]], *, deadline: float,
              needs_root: str = "") -> None:
    """Run an asyncio benchmark under the deadline and teardown; exits the process."""
    if needs_root and os.geteuid() != 0:
        print(json.dumps({"error": f"needs root ({needs_root})"}))
        sys.exit(1)
    bench = Bench(_deadline(deadline))
    _become_subreaper()
    stopped: list[str] = []

    async def runner() -> dict[str, Any]:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()

        def interrupt(sig: signal.Signals) -> None:
            if not stopped:
                stopped.append(f"interrupted by {sig.name} while waiting for: {bench.waiting}")
                task.cancel()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, interrupt, sig)
        try:
            async with asyncio.timeout(bench.deadline) as timeout:
                return await main(bench)
        except TimeoutError:
            if timeout.expired():
                stopped.append(f"deadline of {bench.deadline:g}s passed while waiting for: "
                               f"{bench.waiting}")
                return {}
            raise
        finally:
            # a second signal must not cut the teardown short
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
                signal.signal(sig, signal.SIG_IGN)
            # here, not after asyncio.run: its shutdown waits for the executor's threads,
            # which may be blocked on the very processes the teardown ends
            await asyncio.to_thread(bench.teardown)

    result: dict[str, Any] | None = None
    error = ""
    try:
        result = asyncio.run(runner())
    except asyncio.CancelledError:
        pass
    except SystemExit as e:  # raise SystemExit("why"): a failure like any other
        error = f"{e.code} (while waiting for: {bench.waiting})"
    except Exception as e:  # every failure becomes the JSON error
        error = f"{_error_text(e)} (while waiting for: {bench.waiting})"
    if stopped:
        error, result = stopped[0], None
    sys.exit(_finish(bench, result, error))
