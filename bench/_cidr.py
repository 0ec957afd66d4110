"""A cluster CIDR for a benchmark: 10.214.x.0/24, reserved host-wide as the tests reserve
theirs (tests/reservations.py: an flock held until this process exits, then checked against
the host's routes), so a benchmark never races a test run or another benchmark for a subnet.
10.214.x keeps benchmarks apart from the e2e tests' 10.213.x.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from tests import reservations  # noqa: E402  (the repository root is on the path now)


def free_cidr() -> str:
    return reservations.free_cidr(prefix="10.214")


def cluster_name(base: str) -> str:
    """`base`, or `base`-2, ...: a cluster name no other test or benchmark process holds."""
    return reservations.cluster_name(base)
