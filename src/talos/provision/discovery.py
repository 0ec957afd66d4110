"""The local cluster's discovery service: `python -m talos discovery` on the bridge gateway
(plaintext gRPC on the cluster's own bridge), and the config patch that points the nodes at
it. Its pid is in the cluster record; its environment carries the cluster's sandbox marker
so `cluster destroy` finds it even when the record is lost; nothing else of the caller's
environment (see `talos.machinery.environment`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from talos.machinery import constants
from talos.machinery.environment import process_environment
from talos.provision import marked

PORT = 3000


def endpoint(gateway: str) -> str:
    return f"http://{gateway}:{PORT}"


def config_patch(gateway: str) -> str:
    """A strategic-merge patch enabling the service registry at the gateway."""
    return ("cluster:\n  discovery:\n    enabled: true\n    registries:\n"
            f"      service:\n        endpoint: {endpoint(gateway)}\n")


def launch(directory: Path, gateway: str, python: str | None = None) -> int:
    """Start the service in the background (it outlives this process); returns its pid.

    It runs niced: on a small host its start-up would otherwise compete for the CPU with
    the nodes' boot, which is the critical path of `cluster create` (members appear a moment
    later instead)."""
    env = process_environment({constants.SANDBOX_ENV_STATE: str(directory / "discovery")})
    with open(directory / "discovery.log", "ab") as logf:
        nice = ["nice", "-n", "10"] if shutil.which("nice") else []
        proc = subprocess.Popen(
            [*nice, python or sys.executable, "-m", "talos", "discovery", "--listen",
             f"{gateway}:{PORT}"], stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
            env=env, cwd="/", start_new_session=True)
    proc.returncode = 0  # runs on by design: no ResourceWarning when the Popen is collected
    return proc.pid


def _marker(directory: str) -> str:
    return f"{constants.SANDBOX_ENV_STATE}={os.path.join(directory, 'discovery')}"


def is_ours(pid: int, directory: str) -> bool:
    """Is `pid` this cluster's service (checked before signalling it)?"""
    return marked.carries(pid, _marker(directory))


def stop(pid: int, directory: str, timeout: float = 5.0) -> None:
    """SIGTERM the service (SIGKILL after `timeout`) if it is still this cluster's."""
    marked.stop(pid, _marker(directory), timeout)
