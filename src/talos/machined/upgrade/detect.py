"""The boot target of this node, if it has one: the sandbox slots when the launcher booted
it from an image (its boot record at /boot), else the ESP entries of a metal/VM install
(talos.machined.upgrade.metal), else none (a node run from the source tree)."""

from __future__ import annotations

import logging
import os
from functools import cache

from talos.machined.upgrade import sandbox
from talos.machined.upgrade.target import BootTarget
from talos.machinery import bootslots, constants
from talos.machinery.errors import FailedPrecondition, TalosError

log = logging.getLogger("talos.machined.upgrade")


@cache
def boot_target(is_sandbox: bool) -> BootTarget | None:
    """Detected once per machined (the booted slot is this process's)."""
    if os.environ.get(constants.SANDBOX_ENV_BOOT) or (
            is_sandbox and os.path.exists(os.path.join(sandbox.DEFAULT_BOOT_DIR,
                                                       bootslots.RECORD_FILE))):
        return sandbox.from_env()
    from talos.machined.platform import metal as metal_platform

    # a machine booted from the image runs its node as a sandbox too (is_sandbox): metal
    # first, then a sandbox without a boot record has none
    if is_sandbox and not metal_platform.active():
        return None
    try:
        from talos.machined.upgrade import metal
        return metal.detect()
    except (TalosError, OSError) as e:
        log.warning("no boot target: %s", e)
        return None


def require(is_sandbox: bool) -> BootTarget:
    target = boot_target(is_sandbox)
    if target is None:
        raise FailedPrecondition(
            "this node was not booted from an installed image (a sandbox node needs "
            "`cluster create --image`, a machine an install to disk): there are no boot "
            "slots to upgrade or roll back")
    return target
