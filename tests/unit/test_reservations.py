"""Two test processes at once never get the same cluster CIDR or name (tests/reservations.py):
the e2e clusters' subnets and bridges are host-wide."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import reservations
from tests.e2e.cluster.conftest import free_cidr

REPO = Path(__file__).resolve().parents[2]
OTHER = """
from tests import reservations
from tests.e2e.cluster.conftest import free_cidr
print(free_cidr(), reservations.cluster_name("resv"))
"""


def other_process() -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO),
                                                        os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-c", OTHER], capture_output=True, text=True,
                         env=env, cwd=REPO, timeout=120, check=True)
    return res.stdout.split()


def test_a_second_test_process_gets_another_cidr_and_cluster_name() -> None:
    mine = free_cidr(), reservations.cluster_name("resv")
    theirs = other_process()
    assert theirs[0] != mine[0] and theirs[1] != mine[1], (mine, theirs)
    # and once that process has exited its reservations are free again
    assert other_process() == theirs


def test_one_process_never_gets_the_same_twice() -> None:
    assert free_cidr() != free_cidr()
    assert reservations.cluster_name("resv") != reservations.cluster_name("resv")
