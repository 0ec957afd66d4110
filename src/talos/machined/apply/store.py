"""The machine config on disk, in STATE: the active config and the one staged for next boot.

Every write is atomic (temp file, fsync, rename, fsync of the directory: see
`talos.machinery.atomic`), so a crash at any point leaves the old or the new config, complete.
At boot a staged config replaces the active one with one rename (itself atomic), and stray
temp files of an interrupted write are removed.
"""

from __future__ import annotations

import contextlib
import logging
import os

from talos.machined.config import NodeConfig, parse_config
from talos.machined.paths import NodePaths
from talos.machinery.atomic import write_atomic
from talos.machinery.constants import CONFIG_FILENAME

log = logging.getLogger(__name__)

STAGED_FILENAME = "config.staged.yaml"


class ConfigStore:
    def __init__(self, paths: NodePaths) -> None:
        self.paths = paths

    @property
    def active(self) -> str:
        return os.path.join(self.paths.state, CONFIG_FILENAME)

    @property
    def staged(self) -> str:
        return os.path.join(self.paths.state, STAGED_FILENAME)

    # all methods block (file I/O): call them through asyncio.to_thread

    def _remove_stray_temp_files(self) -> None:
        try:
            names = os.listdir(self.paths.state)
        except FileNotFoundError:
            return
        for name in names:
            if name.startswith((f".{CONFIG_FILENAME}.", f".{STAGED_FILENAME}.")) \
                    and name.endswith(".tmp"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.paths.state, name))
                log.info("removed %s left by an interrupted config write", name)

    def load_at_boot(self, seed: str | None = None) -> NodeConfig | None:
        """The config to boot with: a staged one (promoted now), else the active one, else
        `seed` (the `--config` file, copied into STATE once validated), else None (the node
        goes to maintenance mode). Raises InvalidConfig naming every problem."""
        self._remove_stray_temp_files()
        if os.path.exists(self.staged):
            os.replace(self.staged, self.active)
            with contextlib.suppress(OSError):
                _fsync_dir(self.paths.state)
            log.info("staged machine config promoted to the active config")
        if os.path.exists(self.active):
            with open(self.active, "rb") as f:
                return parse_config(f.read(), source=self.active)
        if seed is not None:
            with open(seed, "rb") as f:
                raw = f.read()
            cfg = parse_config(raw, source=seed)
            write_atomic(self.active, raw)
            return cfg
        return None

    def write_active(self, raw: bytes) -> None:
        write_atomic(self.active, raw)

    def write_staged(self, raw: bytes) -> None:
        write_atomic(self.staged, raw)

    def discard_staged(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.staged)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
