"""What a test needs from the host, and what happens when the host lacks it.

A test names its prerequisites with the marker `requires` (module-wide through `pytestmark`):

    pytestmark = pytest.mark.requires("root", "etcd", "etcdctl")

or calls `require(...)` (or `require_root()`, `require_tools(...)`) from a fixture or the
test body when the need is only known there. The `root` marker implies `requires("root")`.

A prerequisite is "root", "ipv6" (an IPv6 loopback), or the name of a program that must be
on PATH. When one is missing the test is skipped on a developer's machine, and FAILS when
the environment variable CI is true (as CI services set it): a CI run must never pass by
testing less. Either way the message names what is missing and how to get it.

This module is a pytest plugin (tests/conftest.py loads it); markers are checked before any
fixture of the test runs, so a missing etcd costs no cluster start.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass

import pytest

#: Debian package that provides each program the tests use
PACKAGES = {
    "etcd": "etcd-server",
    "etcdctl": "etcd-client",
    "containerd": "containerd",
    "ctr": "containerd",
    "runc": "runc",
    "unshare": "util-linux",
    "nsenter": "util-linux",
    "mount": "mount",
    "umount": "mount",
    "ip": "iproute2",
    "mksquashfs": "squashfs-tools",
    "objcopy": "binutils",
    "sfdisk": "fdisk",
    "mkfs.vfat": "dosfstools",
    "mcopy": "mtools",
    "mmd": "mtools",
    "qemu-system-x86_64": "qemu-system-x86",
    "ldd": "libc-bin",
    "busybox": "busybox-static",  # static: it runs alone in a test-built image
}


@dataclass(frozen=True)
class Prerequisite:
    name: str
    present: Callable[[], bool]
    remedy: str


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6 or not os.path.exists("/proc/self/net/tcp6"):
        return False
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


SPECIAL = {
    "root": Prerequisite("root", lambda: os.geteuid() == 0,
                         "run the tests as root (namespaces, bridges and mounts need it)"),
    "ipv6": Prerequisite("IPv6 on loopback (::1)", _has_ipv6_loopback,
                         "enable IPv6: sysctl -w net.ipv6.conf.lo.disable_ipv6=0 (or boot "
                         "without ipv6.disable=1)"),
}


def prerequisite(name: str) -> Prerequisite:
    """The prerequisite called `name`: a special one or a program on PATH."""
    if name in SPECIAL:
        return SPECIAL[name]
    package = PACKAGES.get(name, name)
    return Prerequisite(f"program {name!r}", lambda: shutil.which(name) is not None,
                        f"apt-get install {package}")


def in_ci() -> bool:
    """CI=true (or 1/yes): missing prerequisites fail instead of skipping."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(*names: str) -> list[Prerequisite]:
    return [p for p in map(prerequisite, dict.fromkeys(names)) if not p.present()]


def require(*names: str) -> None:
    """Skip the running test (fail it under CI=true) unless every prerequisite is present."""
    lacking = missing(*names)
    if not lacking:
        return
    what = "; ".join(f"{p.name} (fix: {p.remedy})" for p in lacking)
    if in_ci():
        pytest.fail(f"missing prerequisite under CI=true: {what}", pytrace=False)
    pytest.skip(f"missing prerequisite: {what}")


def require_root() -> None:
    require("root")


def require_tools(*programs: str) -> None:
    require(*programs)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requires(*names): host prerequisites ('root', 'ipv6' or programs on "
        "PATH); missing ones skip the test, or fail it under CI=true")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    names: list[str] = []
    if item.get_closest_marker("root") is not None:
        names.append("root")
    for mark in item.iter_markers("requires"):
        names.extend(mark.args)
    if names:
        require(*names)
