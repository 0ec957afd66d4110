"""Kernel modules are loaded dependencies first, built-in ones skipped, unknown ones named."""

from __future__ import annotations

import pytest

from talos.imager import kmod
from talos.imager.errors import ImageBuildError

DEP = (
    "k/fs/xfs/xfs.ko: k/lib/libcrc32c.ko\n"
    "k/lib/libcrc32c.ko:\n"
    "k/drivers/net/virtio_net.ko: k/drivers/net/net_failover.ko k/net/core/failover.ko"
    " k/drivers/virtio/virtio.ko k/drivers/virtio/virtio_ring.ko\n"
    "k/drivers/net/net_failover.ko: k/net/core/failover.ko\n"
    "k/net/core/failover.ko:\n"
    "k/drivers/virtio/virtio.ko:\n"
    "k/drivers/virtio/virtio_ring.ko:\n"
    "k/drivers/char/hw_random/virtio-rng.ko: k/drivers/virtio/virtio.ko"
    " k/drivers/virtio/virtio_ring.ko\n"
)


def test_every_module_comes_after_what_it_needs():
    order = kmod.load_order(kmod.parse_modules_dep(DEP), set(),
                            ("virtio_net", "xfs", "virtio_rng"))
    names = [p.rsplit("/", 1)[1] for p in order]
    assert names == ["virtio_ring.ko", "virtio.ko", "failover.ko", "net_failover.ko",
                     "virtio_net.ko", "libcrc32c.ko", "xfs.ko", "virtio-rng.ko"]


def test_built_in_modules_are_not_loaded():
    order = kmod.load_order(kmod.parse_modules_dep(DEP), {"xfs"}, ("xfs",))
    assert order == []


def test_a_module_that_does_not_exist_is_named():
    with pytest.raises(ImageBuildError, match="'squashfs'"):
        kmod.load_order(kmod.parse_modules_dep(DEP), set(), ("squashfs",))
