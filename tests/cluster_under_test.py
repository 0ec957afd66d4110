"""A cluster a test creates through the real `talosctl cluster create` (sandbox, `--image` or
qemu): where its state lives and how the test runs talosctl against it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ClusterUnderTest:
    name: str
    cidr: str
    state: Path
    talosconfig: Path

    #: bound on one talosctl call (not a timing requirement)
    TALOSCTL_TIMEOUT = 600.0

    @property
    def directory(self) -> Path:
        return self.state.resolve() / self.name

    def talosctl(self, *args: str,
                 timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        """`python -m talos talosctl ARGS` with this cluster's talosconfig and no terminal;
        a Python traceback on stderr fails the test."""
        res = subprocess.run([sys.executable, "-m", "talos", "talosctl", *args],
                             capture_output=True, text=True, check=False,
                             timeout=timeout or self.TALOSCTL_TIMEOUT, stdin=subprocess.DEVNULL,
                             env={**os.environ, "TALOSCONFIG": str(self.talosconfig)})
        assert "Traceback" not in res.stderr, res.stderr
        return res
