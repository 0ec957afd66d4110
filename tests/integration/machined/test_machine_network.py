"""A machine's network from its config, against the real kernel: the config/merge/spec
controllers and the DHCP operator in a network namespace the test creates (each scenario
runs in `unshare --net`, so the namespace, its links and the DHCP server end with it;
tests/integration/machined/netns_machine_network.py is the scenario)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.leftovers import leftovers, snapshot

ROOT = Path(__file__).resolve().parents[3]


def _run(scenario: str, tmp_path: Path) -> None:
    before = snapshot(tmp_path)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"}
    try:
        res = subprocess.run(["unshare", "--net", sys.executable, "-m",
                              "tests.integration.machined.netns_machine_network", scenario],
                             cwd=ROOT, env=env, capture_output=True, text=True, check=False,
                             timeout=300)
    finally:
        left = leftovers(before)
    assert res.returncode == 0, res.stderr[-4000:]
    assert not left, f"the test left behind: {left}"


@pytest.mark.root
@pytest.mark.requires("unshare", "ip")
def test_config_address_route_and_mtu_are_applied_to_the_kernel_and_removed_with_the_config(
        tmp_path: Path) -> None:
    _run("static", tmp_path)


@pytest.mark.root
@pytest.mark.requires("unshare", "ip", "busybox")
def test_dhcp_interface_gets_a_lease_from_a_real_server_and_renews_it_at_t1(
        tmp_path: Path) -> None:
    _run("dhcp", tmp_path)
