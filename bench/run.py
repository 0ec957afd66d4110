#!/usr/bin/env python3
"""Run every benchmark under bench/ and print one JSON object keyed by benchmark name.

    python bench/run.py            # all benchmarks
    python bench/run.py cosi node  # only these

Each bench/<name>.py is a standalone script that prints one JSON object (its figures and,
beside each, the floor it is judged against) and enforces its own deadline (`--deadline`,
`$BENCH_DEADLINE`: passed on to each). A benchmark that overruns its deadline by more than
GRACE_S anyway is sent SIGTERM (its orderly teardown), then SIGKILL. SIGTERM or SIGINT
here is passed on to the running benchmark, which tears down and reports; the remaining
ones are not started. Modules whose name starts with `_` are helpers, not benchmarks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

BENCH_DIR = Path(__file__).resolve().parent
#: each benchmark's own default deadline is well below this; a hung one is stopped here
DEFAULT_LIMIT_S = 1800.0
GRACE_S = 60.0


def benchmarks() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("*.py")
                  if p.stem != "run" and not p.stem.startswith("_"))


def run_one(script: Path, limit: float,
            current: list[subprocess.Popen[str]]) -> dict[str, object]:
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    current[:] = [proc]
    try:
        try:
            out, err = proc.communicate(timeout=limit + GRACE_S)
        except subprocess.TimeoutExpired:
            proc.terminate()  # the benchmark's orderly teardown
            try:
                out, err = proc.communicate(timeout=GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            return {"error": f"still running {limit + GRACE_S:g}s after its start, "
                             "stopped", "stdout": out[-2000:], "stderr": err[-2000:]}
    finally:
        current.clear()
    try:
        result: dict[str, object] = json.loads(out)
    except json.JSONDecodeError:
        return {"error": f"exit {proc.returncode}", "stderr": err[-2000:]}
    if proc.returncode != 0 and "error" not in result:
        result["error"] = f"exit {proc.returncode}"
    return result


def main(argv: list[str]) -> int:
    limit = float(os.environ.get("BENCH_DEADLINE") or DEFAULT_LIMIT_S)
    stop: list[int] = []
    current: list[subprocess.Popen[str]] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.append(signum)
        for proc in current:
            if proc.poll() is None:
                proc.send_signal(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    names = argv or benchmarks()
    results: dict[str, object] = {}
    failed = False
    for name in names:
        script = BENCH_DIR / f"{name}.py"
        if stop:
            results[name] = {"error": f"not run: {signal.Signals(stop[0]).name} received"}
            failed = True
            continue
        if not script.exists() or name.startswith("_") or name == "run":
            results[name] = {"error": f"no such benchmark: {script}"}
            failed = True
            continue
        results[name] = run_one(script, limit, current)
        failed = failed or "error" in results[name]
        print(f"{name}: {'failed' if 'error' in results[name] else 'done'}", file=sys.stderr,
              flush=True)
    print(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
