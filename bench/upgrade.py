#!/usr/bin/env python3
"""Upgrade benchmark; prints one JSON object.

A one-node sandbox cluster booted from an image tagged `<tag>-bench1` (`cluster create
--image`); the image tagged `<tag>-bench2` pushed to the cluster's registry as an installer
(`python -m talos imager installer --push`). Measured, on the same node:

* `reboot_s` (the floor): from `talosctl reboot --wait=false` until the node answers
  `talosctl version` again with a new machined;
* `upgrade_s`: from `talosctl upgrade --image REF --wait=false` until the node answers on
  the new tag (pull, layer copy, verified slot write, switch, reboot, boot).
* `upgrade_call_s`: how much of that the Upgrade call itself took (pull + write).

Both images come from the build cache when their inputs have not changed (`build_s` says
how long getting them took). Needs root; default deadline 1500 s; every process and the
cluster are removed on every exit (_harness.py).
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time
from collections.abc import Callable

from _harness import Bench, run

from talos.imager import build as imager_build
from talos.machinery.version import TAG
from talos.provision import registry
from talos.provision.destroy import destroy_cluster
from talos.provision.sandbox import node_machined_pid
from talos.provision.state import ClusterRecord

OLD, NEW = f"{TAG}-bench1", f"{TAG}-bench2"
CIDR = "10.213.250.0/24"


def _talosctl(env: dict[str, str], *args: str, timeout: float = 900
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "talos", "talosctl", *args],
                          capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL, env=env)


def _tag(env: dict[str, str], address: str) -> str:
    res = _talosctl(env, "-n", address, "version", timeout=30)
    if res.returncode != 0:
        return ""
    server = res.stdout.split("Server:", 1)[-1]
    return next((ln.split(":", 1)[1].strip() for ln in server.splitlines()
                 if ln.strip().startswith("Tag:")), "")


def _until(bench: Bench, what: str, check: Callable[[], bool]) -> float:
    bench.waiting_for(what)
    started = time.monotonic()
    while not check():
        time.sleep(0.2)
    return time.monotonic() - started


def main(bench: Bench) -> dict[str, object]:
    bench.waiting_for("the two image builds")
    t0 = time.monotonic()
    old = imager_build.build(tag=OLD)
    new = imager_build.build(tag=NEW)
    build_s = time.monotonic() - t0

    tmp = bench.tempdir("upgrade-bench-")
    state, name = str(tmp / "clusters"), "upgbench"
    env = {**os.environ, "TALOSCONFIG": str(tmp / "talosconfig")}
    bench.cleanup("cluster", lambda: destroy_cluster(state, name, timeout=10))
    bench.waiting_for("cluster create")
    created = _talosctl(env, "cluster", "create", "--name", name, "--cidr", CIDR,
                        "--controlplanes", "1", "--workers", "0", "--image", old.directory,
                        "--state", state, "--skip-kubeconfig")
    if created.returncode != 0:
        raise RuntimeError(f"cluster create failed: {created.stderr[-2000:]}")
    (node,) = ClusterRecord.load(os.path.join(state, name)).nodes
    _until(bench, "the node on the old tag", lambda: _tag(env, node.address) == OLD)

    gateway = str(next(ipaddress.IPv4Network(CIDR).hosts()))
    registry.wait_ready(gateway, timeout=30)
    ref = f"{registry.address(gateway)}/siderolabs/installer:{NEW}"
    bench.waiting_for("imager installer --push")
    pushed = subprocess.run([sys.executable, "-m", "talos", "imager", "installer", "--tag",
                             NEW, "--plain-http", "--push", ref], capture_output=True,
                            text=True, check=False, timeout=900, stdin=subprocess.DEVNULL)
    if pushed.returncode != 0:
        raise RuntimeError(f"push failed: {pushed.stderr[-2000:]}")

    # the floor: a plain reboot of the same node (answering again from a new machined)
    first = node_machined_pid(node)
    start = time.monotonic()
    rb = _talosctl(env, "-n", node.address, "reboot", "--wait=false")
    if rb.returncode != 0:
        raise RuntimeError(f"reboot failed: {rb.stderr[-2000:]}")
    _until(bench, "the node after the reboot",
           lambda: node_machined_pid(node) not in (None, first)
           and _tag(env, node.address) == OLD)
    reboot_s = time.monotonic() - start

    start = time.monotonic()
    up = _talosctl(env, "-n", node.address, "upgrade", "--image", ref, "--wait=false")
    call_s = time.monotonic() - start
    if up.returncode != 0:
        raise RuntimeError(f"upgrade failed: {up.stderr[-2000:]}")
    _until(bench, "the node on the new tag", lambda: _tag(env, node.address) == NEW)
    upgrade_s = time.monotonic() - start
    return {"reboot_s": round(reboot_s, 2), "upgrade_s": round(upgrade_s, 2),
            "upgrade_call_s": round(call_s, 2), "build_s": round(build_s, 1),
            "installer_mib": round(os.path.getsize(os.path.join(
                new.directory, "installer-amd64.tar")) / (1 << 20), 1)}


if __name__ == "__main__":
    run(main, deadline=1500.0, needs_root="sandbox nodes need namespaces and mounts")
