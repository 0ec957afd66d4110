"""Host-wide names for test clusters: a CIDR and a cluster name no other process uses.

A cluster's CIDR and its bridge (named after the cluster) are host-wide. Checking the host's
routes is not enough when two test runs start clusters at once (two checkouts, or
`scripts/test.sh` while another run is going): both see the same /24 free before either
bridge exists, and the two bridges then route one subnet, so one run talks to the other's
nodes. Every candidate is therefore also reserved with an flock on a file in /run/lock,
held until this test process exits (the kernel drops it with the process, even after a
crash), and only then checked against the host.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import tempfile
from collections.abc import Callable, Iterable

from talos.provision import network

_LOCK_DIR = "/run/lock" if os.path.isdir("/run/lock") else tempfile.gettempdir()
#: reservation -> open file descriptor holding its lock (for the life of this process)
_held: dict[str, int] = {}


def _reserve(key: str) -> bool:
    """Take the host-wide reservation `key` for this process (False: someone else has it)."""
    if key in _held:
        return False  # already handed out in this process
    path = os.path.join(_LOCK_DIR, f"talos-tests-{key}.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    _held[key] = fd
    return True


def _first(kind: str, candidates: Iterable[str], usable: Callable[[str], bool],
           what: str) -> str:
    for c in candidates:
        if _reserve(f"{kind}-{c.replace('/', '_')}"):
            if usable(c):
                return c
            # in use on the host by something else: keep the reservation (never retried)
    raise RuntimeError(f"no free {what} on this host (all in use or reserved by other "
                       f"test processes; locks in {_LOCK_DIR}/talos-tests-*)")


def free_cidr(prefix: str = "10.213") -> str:
    """A `prefix`.x.0/24 that nothing on the host routes and no other test process holds."""
    def unoccupied(cidr: str) -> bool:
        return not network.conflicts(ipaddress.IPv4Network(cidr),
                                     network.host_ipv4_networks())
    return _first("cidr", (f"{prefix}.{x}.0/24" for x in range(1, 250)), unoccupied,
                  f"{prefix}.x.0/24")


def cluster_name(base: str) -> str:
    """`base`, or `base`-2, -3, ...: a name whose bridge does not exist and that no other
    test process holds."""
    def unused(name: str) -> bool:
        return not network.link_exists(network.bridge_name(name))
    return _first("name", (base if i == 1 else f"{base}-{i}" for i in range(1, 1000)), unused,
                  f"cluster name like {base!r}")
