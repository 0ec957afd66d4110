"""Tear a local cluster down: stop its nodes, remove its links, mounts and files.

Works from the state file when there is one and from what the cluster name implies when
there is not (a crashed create): node processes are found by the sandbox environment
machined and its children carry (`TALOS_SANDBOX_STATE` under the cluster directory), links
by their hashed names. Only processes, links and mounts that belong to this cluster are
touched. Idempotent: destroying a destroyed cluster reports that nothing was left.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from talos.machinery import constants
from talos.machinery.errors import NotFound
from talos.provision import discovery, network, registry
from talos.provision.procinfo import catches_sigterm
from talos.provision.state import ClusterRecord

MNT_DETACH = 2
#: how long a node that does not handle SIGTERM yet (still starting) may take to do so
STARTUP_GRACE = 3.0


@dataclass(frozen=True)
class NodeProcess:
    pid: int
    #: PID 1 of its PID namespace (machined), as opposed to a service or the launcher
    namespace_init: bool


@dataclass
class DestroyReport:
    stopped_gracefully: list[int] = field(default_factory=list)
    killed: list[int] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    mounts: list[str] = field(default_factory=list)
    removed_directory: bool = False

    @property
    def nothing_left(self) -> bool:
        return not (self.stopped_gracefully or self.killed or self.links or self.mounts
                    or self.removed_directory)


def _is_under(path: str, directory: str) -> bool:
    d = directory.rstrip("/") + "/"
    return path == directory or path.startswith(d)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _namespace_init(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            status = f.read()
    except OSError:
        return False
    nspid = next((line.split()[1:] for line in status.splitlines()
                  if line.startswith("NSpid:")), [])
    return len(nspid) > 1 and nspid[-1] == "1"


def node_processes(cluster_dir: str) -> list[NodeProcess]:
    """Every live process of the cluster's nodes: those whose environment names a sandbox
    STATE under `cluster_dir` (the `unshare` launchers, the firmware of nodes booted from
    the image, and machined until it cleans its environment), and their descendants
    (machined after a reboot re-exec or the image's machined, services)."""
    key = f"{constants.SANDBOX_ENV_STATE}=".encode()
    roots: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        value = next((e[len(key):] for e in env if e.startswith(key)), None)
        if value is not None and _is_under(value.decode(errors="replace"), cluster_dir):
            roots.add(pid)
    seen: set[int] = set()
    todo = sorted(roots)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(_children(pid))
    return [NodeProcess(pid, _namespace_init(pid)) for pid in sorted(seen) if _alive(pid)]


def stop_processes(cluster_dir: str, record: ClusterRecord | None, report: DestroyReport,
                   timeout: float) -> None:
    """SIGTERM each node's machined (graceful shutdown), wait, then SIGKILL what is left."""
    if record is not None:
        discovery.stop(record.discovery_pid, cluster_dir)
        registry.stop(record.registry_pid, cluster_dir)
    procs = node_processes(cluster_dir)
    inits = {p.pid for p in procs if p.namespace_init}
    firmwares: set[int] = set()
    if record is not None:
        for n in record.nodes:
            if n.pid and n.pid in {p.pid for p in procs}:
                inits.add(n.pid)
            # a node booted from the image: its firmware stops it and boots it no more
            if n.boot_dir and n.launcher_pid and _launcher_of(n.launcher_pid, cluster_dir):
                firmwares.add(n.launcher_pid)
    inits |= firmwares
    # A PID 1 ignores SIGTERM until it installs a handler (machined still starting up):
    # SIGTERM is repeated until it is caught, and a node that never catches it within
    # STARTUP_GRACE is killed rather than waited on for the whole timeout.
    start = time.monotonic()
    deadline = start + timeout
    last_signal = 0.0
    while time.monotonic() < deadline:
        alive = [pid for pid in inits if _alive(pid)]
        if not alive:
            break
        now = time.monotonic()
        if now - last_signal >= 0.25:
            last_signal = now
            for pid in alive:
                if catches_sigterm(pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
                elif now - start >= STARTUP_GRACE:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    report.killed.append(pid)
        time.sleep(0.02)
    inits -= set(report.killed)
    report.stopped_gracefully.extend(pid for pid in inits - firmwares if not _alive(pid))
    # machined gone takes its PID namespace along and its launcher exits by itself; give
    # them a moment, then whatever remains (a stuck machined) gets SIGKILL, by pid
    settle = time.monotonic() + 2
    while node_processes(cluster_dir) and time.monotonic() < settle:
        time.sleep(0.02)
    for _ in range(3):
        left = node_processes(cluster_dir)
        if record is not None:
            left += [NodeProcess(n.launcher_pid, False) for n in record.nodes
                     if n.launcher_pid and _alive(n.launcher_pid)
                     and _launcher_of(n.launcher_pid, cluster_dir)]
        if not left:
            break
        for p in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGKILL)
            report.killed.append(p.pid)
        end = time.monotonic() + 5
        while any(_alive(p.pid) for p in left) and time.monotonic() < end:
            time.sleep(0.02)
    if record is not None:
        for n in record.nodes:
            for pid in (n.launcher_pid, n.pid):
                if pid:
                    _reap(pid)


def _launcher_of(pid: int, cluster_dir: str) -> bool:
    """Is `pid` an `unshare` launcher or a node's firmware of this cluster (checked before
    signalling by pid)?"""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return False
    key = f"{constants.SANDBOX_ENV_STATE}=".encode()
    return any(e.startswith(key) and _is_under(e[len(key):].decode(errors="replace"),
                                               cluster_dir) for e in env)


def mounts_under(directory: str) -> list[str]:
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mount_point = line.split()[4].replace("\\040", " ")
            if _is_under(mount_point, directory):
                out.append(mount_point)
    return out


def unmount_all(directory: str, report: DestroyReport) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    for mp in sorted(mounts_under(directory), key=len, reverse=True):
        if libc.umount2(mp.encode(), MNT_DETACH) == 0:
            report.mounts.append(mp)


def remove_links(record: ClusterRecord | None, name: str, cluster_dir: str,
                 report: DestroyReport) -> None:
    veths: set[str] = set()
    if record is not None:
        veths.update(n.veth for n in record.nodes if n.veth)
    with contextlib.suppress(OSError):
        for entry in os.listdir(cluster_dir):
            veths.add(network.host_veth_name(name, entry))
    for link in sorted(veths):
        if network.delete_link(link):
            report.links.append(link)
    bridge = record.bridge if record is not None else network.bridge_name(name)
    if network.delete_link(bridge):
        report.links.append(bridge)


def destroy_cluster(state_dir: str | os.PathLike[str], name: str, *,
                    timeout: float = 30.0) -> DestroyReport:
    """Stop and remove everything of cluster `name` (`report.nothing_left` when nothing of it
    existed: destroying twice is fine)."""
    cluster_dir = str(Path(state_dir).expanduser().resolve() / name)
    record: ClusterRecord | None
    try:
        record = ClusterRecord.load(cluster_dir)
    except NotFound:
        record = None
    except Exception:
        record = None  # an unreadable state file: fall back to what the name implies
    report = DestroyReport()
    stop_processes(cluster_dir, record, report, timeout)
    unmount_all(cluster_dir, report)
    remove_links(record, name, cluster_dir, report)
    if os.path.isdir(cluster_dir):
        shutil.rmtree(cluster_dir, ignore_errors=True)
        report.removed_directory = True
    return report
