"""Nodes and everything they run start with an explicit environment, never the one of
whoever ran `talosctl cluster create`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import pytest

from talos.machinery import constants
from talos.machinery.environment import PYTHON_VARS
from talos.provision import discovery
from tests.e2e.cluster.conftest import Cluster, talosctl
from tests.leftovers import Proc, descendants, proc_info

pytestmark = [pytest.mark.e2e, pytest.mark.root]

ALLOWED = {"PATH", "LANG", "LC_ALL", "HOME", "PYTHONPATH", *PYTHON_VARS,
           # the launcher's markers (machined removes them from its own environment, but
           # /proc shows the environment a process was started with)
           constants.SANDBOX_ENV_HOST_MNTNS, constants.SANDBOX_ENV_ROOTFS,
           constants.SANDBOX_ENV_STATE, constants.SANDBOX_ENV_EPHEMERAL}


def _environ(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as f:
        items = [e.decode(errors="replace") for e in f.read().split(b"\0") if e]
    return dict(e.split("=", 1) for e in items if "=" in e)


def test_nodes_their_services_and_discovery_get_none_of_the_callers_environment(
        make_cluster: Callable[[str], Cluster]) -> None:
    c = make_cluster("e2e-env")
    marker = f"leaked-{uuid.uuid4().hex}"
    env = {**os.environ, "TALOSCONFIG": str(c.talosconfig), "E2E_LEAK_MARKER": marker,
           "AWS_SECRET_ACCESS_KEY": marker}
    res = talosctl("cluster", "create", "--name", c.name, "--cidr", c.cidr, "--state",
                   str(c.state), "--skip-kubeconfig", env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    c.remember_namespaces()
    record = c.record()

    procs: list[Proc] = []
    for n in record.nodes:
        for pid in (n.launcher_pid, n.pid):
            info = proc_info(pid)
            assert info is not None, f"{n.name}: pid {pid} is gone"
            procs.append(info)
        procs += descendants(n.pid)
    info = proc_info(record.discovery_pid)
    assert info is not None and discovery.is_ours(record.discovery_pid, str(c.directory))
    procs.append(info)

    programs = {os.path.basename(p.cmdline.split(" ", 1)[0]) for p in procs}
    commands = " ".join(p.cmdline for p in procs)
    # the services were there to be checked: etcd and containerd, apid and trustd
    assert {"etcd", "containerd", "unshare"} <= programs, programs
    for what in (" apid ", " trustd ", " machined ", " discovery "):
        assert what in commands, what
    for p in procs:
        environ = _environ(p.pid)
        assert marker not in " ".join(environ.values()), p.describe()
        assert set(environ) <= ALLOWED, (p.describe(), sorted(set(environ) - ALLOWED))
        assert environ["LANG"] == environ["LC_ALL"] == "C.UTF-8", p.describe()
        assert environ["HOME"] == "/", p.describe()
