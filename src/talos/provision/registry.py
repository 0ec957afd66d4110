"""The local cluster's OCI registry: Debian's `docker-registry` (distribution 2.8) serving
plain HTTP on the bridge gateway only, with filesystem storage under the cluster directory,
and the config patch that points the nodes at it through `machine.registries.mirrors` (as
Talos users point nodes at a local registry). Images pushed to GATEWAY:5000/NAME:TAG (by
`python -m talos imager installer --push`, or any OCI client) are pulled by the nodes'
containerd from there.

Debian's package ships an init script that needs systemd; the binary is started here in the
foreground, detached, like the discovery service: its pid is in the cluster record, its
environment carries the cluster's registry marker so `cluster destroy` finds it even when
the record is lost, and nothing else of the caller's environment reaches it."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from talos.machinery import constants
from talos.machinery.environment import process_environment
from talos.provision import marked

PORT = 5000
BINARY = "docker-registry"


def available() -> bool:
    return shutil.which(BINARY) is not None


def address(gateway: str) -> str:
    """host:port of the registry, the name images pushed to it carry."""
    return f"{gateway}:{PORT}"


def config_patch(gateway: str) -> str:
    """A strategic-merge patch making the nodes pull GATEWAY:5000/... over plain HTTP."""
    host = address(gateway)
    return (f"machine:\n  registries:\n    mirrors:\n      {host}:\n        endpoints:\n"
            f"          - http://{host}\n")


def _config(storage: Path, gateway: str) -> str:
    # distribution's own config format (version 0.1); a fixed http.secret silences its
    # warning about a random one per start (nothing here is behind a load balancer)
    return ("version: 0.1\n"
            "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {storage}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {address(gateway)}\n  secret: talos-sandbox-registry\n")


def _marker(directory: str | os.PathLike[str]) -> str:
    return f"{constants.SANDBOX_ENV_STATE}={os.path.join(directory, 'registry')}"


def launch(directory: Path, gateway: str) -> int:
    """Start the registry in the background (it outlives this process); returns its pid."""
    storage = directory / "registry"
    storage.mkdir(mode=0o700, exist_ok=True)
    config = directory / "registry.yml"
    tmp = config.with_suffix(".yml.tmp")
    tmp.write_text(_config(storage, gateway))
    os.replace(tmp, config)
    binary = shutil.which(BINARY)
    if binary is None:
        raise FileNotFoundError(f"{BINARY} not found in PATH (Debian package docker-registry)")
    env = process_environment({constants.SANDBOX_ENV_STATE: str(storage)})
    with open(directory / "registry.log", "ab") as logf:
        proc = subprocess.Popen([binary, "serve", str(config)], stdin=subprocess.DEVNULL,
                                stdout=logf, stderr=logf, env=env, cwd="/",
                                start_new_session=True)
    proc.returncode = 0  # runs on by design: no ResourceWarning when the Popen is collected
    return proc.pid


def wait_ready(gateway: str, timeout: float = 10.0) -> bool:
    """Does the registry accept connections within `timeout`? (a pull before it listens
    would fail for no reason)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((gateway, PORT), 0.5):
            return True
        time.sleep(0.05)
    return False


def is_ours(pid: int, directory: str) -> bool:
    """Is `pid` this cluster's registry (checked before signalling it)?"""
    return marked.carries(pid, _marker(directory))


def stop(pid: int, directory: str, timeout: float = 5.0) -> None:
    """SIGTERM the registry (SIGKILL after `timeout`) if it is still this cluster's."""
    marked.stop(pid, _marker(directory), timeout)
