"""What /proc says about a process the provisioner started (no imports beyond the standard
library: the per-node firmware imports this too)."""

from __future__ import annotations

import signal


def catches_sigterm(pid: int) -> bool:
    """Whether `pid` has a SIGTERM handler installed (a PID 1 without one ignores SIGTERM:
    machined installs its handler once it has started)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    except (OSError, ValueError):
        pass
    return False
