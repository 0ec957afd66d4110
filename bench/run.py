#!/usr/bin/env python3
"""Run every benchmark under bench/ and print one JSON object keyed by benchmark name.

    python bench/run.py            # all benchmarks
    python bench/run.py cosi node  # only these

Each bench/<name>.py is a standalone script that prints one JSON object (its figures and,
beside each, the floor it is judged against).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in BENCH_DIR.glob("*.py") if p.stem != "run")
    results: dict[str, object] = {}
    failed = False
    for name in names:
        script = BENCH_DIR / f"{name}.py"
        if not script.exists():
            results[name] = {"error": f"no such benchmark: {script}"}
            failed = True
            continue
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              check=False)
        try:
            results[name] = json.loads(proc.stdout)
        except json.JSONDecodeError:
            results[name] = {"error": f"exit {proc.returncode}", "stderr": proc.stderr[-2000:]}
            failed = True
    print(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
