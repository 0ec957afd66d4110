"""A benchmark stopped mid-run by SIGTERM tears down everything it started.

`bench/node.py` is the cheapest benchmark that starts a sandbox (machined as PID 1 of new
namespaces, its services, a veth pair in the node's network namespace): it is run as a user
runs it, sent SIGTERM once the node's services are starting, and then nothing it started may
be left: no descendant process, no network namespace of its, no mount under its temp dir,
no temp dir.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]

# a node sandbox: namespaces, mounts, a veth configured with nsenter + ip
pytestmark = [pytest.mark.root, pytest.mark.e2e,
              pytest.mark.requires("unshare", "nsenter", "ip")]


def _netns(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return ""


def _processes_in(namespaces: set[str]) -> list[int]:
    return [p for p in psutil.pids() if _netns(p) in namespaces]


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _still_running(seen: dict[int, float]) -> list[int]:
    out = []
    for pid, created in seen.items():
        try:
            p = psutil.Process(pid)
            if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            continue
    return out


def _run_mid_run(tmp_path: Path, *args: str, sigterm: bool) -> tuple[int, dict[str, object]]:
    """Run bench/node.py; with `sigterm`, send SIGTERM once its node has started a service,
    else let it run out its deadline. Assert nothing it started is left."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    own_netns = _netns(os.getpid())
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "node.py"), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "TMPDIR": str(tmpdir)})
    seen: dict[int, float] = {}  # every descendant ever seen: pid -> create time
    namespaces: set[str] = set()
    leftovers: list[int] = []
    try:
        # mid-run: machined runs in its sandbox and has started a service process
        started = False
        for _ in range(6000):  # bounded wait (~5 min at 0.05 s), not a timing assertion
            for p in _descendants(proc.pid):
                try:
                    seen[p.pid] = p.create_time()
                    ns = _netns(p.pid)
                    if ns and ns != own_netns:
                        namespaces.add(ns)
                    if "machined" in " ".join(p.cmdline()) and p.children():
                        started = True
                except psutil.NoSuchProcess:
                    continue
            if (started and sigterm) or proc.poll() is not None:
                break
            time.sleep(0.05)
        if sigterm:
            assert started, (f"the benchmark ended (exit {proc.poll()}) before its node "
                             f"started a service: {proc.stderr.read() if proc.stderr else ''}")
            assert namespaces, "the node's network namespace was never seen"
            proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        leftovers = _still_running(seen)
        in_namespaces = _processes_in(namespaces)
        for pid in {*leftovers, *in_namespaces}:  # leave nothing behind, even on failure
            try:
                psutil.Process(pid).kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs([psutil.Process(p) for p in {*leftovers, *in_namespaces}
                           if psutil.pid_exists(p)], timeout=10)

    assert not leftovers, f"processes the benchmark started are still running: {leftovers}"
    assert not in_namespaces, f"processes left in the node's network namespace: {in_namespaces}"
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(tmpdir) not in mounts, "a mount under the benchmark's temp dir is left"
    assert not any(ns in mounts for ns in namespaces), \
        "the node's network namespace is still bind-mounted"
    assert list(tmpdir.iterdir()) == [], f"temp files left: {list(tmpdir.iterdir())}"
    report = json.loads(out)
    assert isinstance(report, dict), (out, err)
    return proc.returncode, report


def test_sigterm_mid_run_leaves_no_process_netns_mount_or_temp_dir(tmp_path: Path) -> None:
    code, report = _run_mid_run(tmp_path, sigterm=True)
    assert code != 0
    assert "interrupted by SIGTERM while waiting for: " in str(report["error"]), report


def test_deadline_fails_naming_the_wait_and_leaves_nothing(tmp_path: Path) -> None:
    # 2 s: well before the benchmark's end (a node up, then 3000 calls twice)
    code, report = _run_mid_run(tmp_path, "--deadline", "2", sigterm=False)
    assert code != 0
    assert "deadline of 2s passed while waiting for: " in str(report["error"]), report
