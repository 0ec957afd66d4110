"""Platforms machined runs on besides a sandbox: `metal` (a real or virtual machine booted
from the imager's initramfs)."""
