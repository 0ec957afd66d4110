"""Sandbox nodes booted from the OS image (marker `image`): they need a built image (about a
minute when the sources changed, cached by digest in ~/.cache/talos-py/images) but no VM, so
they run in the main suite; the VM stage reuses the image they built."""

from tests.vm.conftest import image

__all__ = ["image"]
