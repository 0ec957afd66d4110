"""ApplyConfiguration: validate, decide (reboot or not), persist, and switch the running config.

Modes (Talos's `talosctl apply-config --mode`):

- AUTO: in place when every changed field is in `NO_REBOOT_FIELDS`, otherwise persist and
  reboot; `mode_details` says which and, for a reboot, which fields forced it.
- NO_REBOOT: in place; a change that needs a reboot is refused (FailedPrecondition naming the
  fields) and nothing changes.
- REBOOT: persist, then reboot.
- STAGED: persist as the staged config, applied at the next boot; the running config stays.
- TRY: in place without persisting; rolled back to the persisted config after
  `try_mode_timeout` (default 1 minute) unless another apply confirms it first.

`dry_run` decides exactly as a real apply would and returns that decision plus a unified
diff (every secret redacted), changing nothing. An invalid config is refused with every
problem (InvalidArgument) and the running config is untouched. The validator's warnings
(deprecated fields ...) are returned in `warnings` with every mode, dry-run included; its
errors (a missing `cluster.controlPlane.endpoint`, ...) refuse the config like structural
ones, as Talos does.
One apply runs at a time (Busy).

In maintenance mode (no config yet) any mode but TRY stores the config and boots with it.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace

from talos.cosi.clock import Clock
from talos.cosi.state import State
from talos.machined.apply.planned import service_changes
from talos.machined.apply.reboot_fields import fields_needing_reboot
from talos.machined.apply.store import ConfigStore
from talos.machined.config import NodeConfig, parse_config
from talos.machined.controllers.config.acquire import RunningConfig, running_config
from talos.machined.controllers.v1alpha1.service_lifecycle import Builder
from talos.machined.paths import NodePaths
from talos.machined.sequencer import Sequence, Sequencer
from talos.machined.system.supervisor import Supervisor
from talos.machinery.config.redact import redact_pair
from talos.machinery.errors import Busy, FailedPrecondition, InvalidArgument

log = logging.getLogger(__name__)

DEFAULT_TRY_TIMEOUT = 60.0

#: the validator's runtime mode: nodes run as sandboxes or plain processes ("container");
#: "metal" would demand install instructions no node here uses
VALIDATION_MODE = "container"


class Mode:
    """ApplyConfigurationRequest.Mode numbers (wire values)."""

    REBOOT = 0
    AUTO = 1
    NO_REBOOT = 2
    STAGED = 3
    TRY = 4

    NAMES = {0: "reboot", 1: "auto", 2: "no-reboot", 3: "staged", 4: "try"}


@dataclass(frozen=True)
class ApplyResult:
    mode: int
    details: str
    warnings: tuple[str, ...] = ()
    #: what to do once the reply is on its way (reboot); None: nothing
    after: Callable[[], Awaitable[None]] | None = field(default=None, compare=False)


def config_warnings(cfg: NodeConfig) -> list[str]:
    """The config validator's warnings (deprecated fields ...); its errors raise
    InvalidConfig with every problem, so the config is refused and nothing changes."""
    return list(cfg.config.validate(VALIDATION_MODE))


def config_diff(old: bytes | None, new: bytes) -> str:
    """A readable unified diff of two configs ("" when equal), secrets redacted: a changed
    secret shows as "****** (changed)", never its value."""
    red_old, red_new = redact_pair(old, new)
    a = red_old.splitlines(keepends=True)
    b = red_new.splitlines(keepends=True)
    lines = list(difflib.unified_diff(a, b, fromfile="a/config", tofile="b/config"))
    return "".join(ln if ln.endswith("\n") else ln + "\n" for ln in lines)


def _duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m0s"
    return f"{seconds:g}s"


class Applier:
    """Owns the running config (`running` is published as the MachineConfig resource by
    `config.AcquireController`) and STATE's copies of it."""

    def __init__(self, paths: NodePaths, running: RunningConfig, state: State, *,
                 supervisor: Supervisor,
                 sequencer: Sequencer, reboot: Callable[[], Sequence], clock: Clock,
                 service_builders: Mapping[str, Builder]) -> None:
        self.running = running
        self.state = state
        self.supervisor = supervisor
        self.sequencer = sequencer
        self.reboot_sequence = reboot
        self.clock = clock
        self.store = ConfigStore(paths)
        self._lock = asyncio.Lock()
        self._busy = False
        self._tg: asyncio.TaskGroup | None = None
        self._try_task: asyncio.Task[None] | None = None
        #: the persisted config a pending TRY rolls back to
        self._try_rollback: NodeConfig | None = None
        self.rollbacks = 0
        self.service_builders = service_builders
        #: what the last in-place change did to services (for mode_details)
        self.service_changes: list[str] = []

    async def run(self) -> None:
        """Own the TRY-mode rollback timers until cancelled."""
        async with asyncio.TaskGroup() as tg:
            self._tg = tg
            try:
                await asyncio.Event().wait()
            finally:
                self._tg = None

    @property
    def try_pending(self) -> bool:
        return self._try_task is not None and not self._try_task.done()

    # -- the running config ---------------------------------------------------------------

    async def load_at_boot(self, seed: str | None) -> NodeConfig | None:
        cfg = await asyncio.to_thread(self.store.load_at_boot, seed)
        await self.set_running(cfg)
        return cfg

    async def set_running(self, cfg: NodeConfig | None) -> None:
        """Make `cfg` the running config, published as the MachineConfig resource: the
        controllers take it from there (services whose inputs changed are restarted by
        `v1alpha1.ServiceLifecycleController` and `etcd.SpecController`, apart from the
        reply, which a restarting apid still finishes). `service_changes` says what they
        will do, as seen before the change."""
        old = running_config(self.state)
        self.service_changes = []
        if old is not None and cfg is not None:
            self.service_changes = service_changes(self.supervisor, self.service_builders,
                                                   old, cfg)
        await self.running.publish(cfg)

    # -- ApplyConfiguration ---------------------------------------------------------------

    async def apply(self, raw: bytes, mode: int, *, dry_run: bool = False,
                    try_timeout: float | None = None) -> ApplyResult:
        if mode not in Mode.NAMES:
            raise InvalidArgument(f"mode: unknown apply mode {mode} (expected one of "
                                  f"{', '.join(f'{k} ({v})' for k, v in Mode.NAMES.items())})")
        if self._lock.locked() or self._busy:
            raise Busy("another ApplyConfiguration is in progress on this node; retry when it "
                       "is done")
        self._busy = True  # claimed synchronously: a concurrent call is Busy, not queued

        async def run() -> ApplyResult | Exception:
            # the outcome, errors included, goes to the caller: never to the task group
            try:
                async with self._lock:
                    return await self._apply(raw, mode, dry_run, try_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                return exc
            finally:
                self._busy = False

        if self._tg is None:
            out = await run()
        else:
            # owned by the applier, not by the call: a caller that goes away (or apid
            # restarting because of this very change) cannot leave an apply half done
            out = await asyncio.shield(self._tg.create_task(run(), name="apply"))
        if isinstance(out, Exception):
            raise out
        return out

    async def _apply(self, raw: bytes, mode: int, dry_run: bool,
                     try_timeout: float | None) -> ApplyResult:
        new = await asyncio.to_thread(parse_config, raw, "ApplyConfiguration")  # InvalidConfig
        # the validator's verdict: errors refuse (InvalidConfig); warnings (deprecated
        # fields ...) go back with every mode, dry-run included
        warnings = await asyncio.to_thread(config_warnings, new)
        result = await self._decide(new, mode, dry_run, try_timeout)
        if warnings:
            log.warning("apply: config warnings: %s", "; ".join(warnings))
        return replace(result, warnings=tuple(warnings))

    async def _decide(self, new: NodeConfig, mode: int, dry_run: bool,
                      try_timeout: float | None) -> ApplyResult:
        old = running_config(self.state)
        if old is None:
            return await self._apply_in_maintenance(new, mode, dry_run)
        reboot_fields = fields_needing_reboot(old.config, new.config)
        needs_reboot = bool(reboot_fields)
        forced = ", ".join(reboot_fields)
        effective = mode

        if mode == Mode.NO_REBOOT and needs_reboot:
            raise FailedPrecondition(
                f"apply mode no-reboot: these changed fields need a reboot: {forced} "
                "(use --mode auto or --mode reboot, or --mode staged for the next boot)")
        if mode == Mode.TRY and needs_reboot:
            raise FailedPrecondition(
                f"apply mode try: these changed fields need a reboot and cannot be tried: "
                f"{forced}")
        if mode == Mode.AUTO:
            effective = Mode.REBOOT if needs_reboot else Mode.NO_REBOOT
        if effective == Mode.REBOOT:
            self._check_can_reboot()

        timeout = try_timeout if try_timeout and try_timeout > 0 else DEFAULT_TRY_TIMEOUT
        if effective == Mode.NO_REBOOT:
            what = "Applied configuration without a reboot"
            if mode == Mode.AUTO:
                what += " (auto: every changed field can change in place)"
        elif effective == Mode.REBOOT:
            what = "Applied configuration with a reboot"
            if mode == Mode.AUTO:
                what += f" (auto: these changed fields need a reboot: {forced})"
        elif effective == Mode.STAGED:
            what = ("Staged configuration to be applied after a reboot (the running "
                    "configuration is unchanged)")
        else:
            what = (f"Applied configuration in try mode: it is rolled back in "
                    f"{_duration(timeout)} unless confirmed by another apply")
        if self.try_pending and effective in (Mode.NO_REBOOT, Mode.REBOOT) and not dry_run:
            what += "; the configuration being tried is confirmed"

        if dry_run:
            diff = config_diff(old.raw, new.raw) or "(no changes)\n"
            return ApplyResult(effective, f"Dry run summary:\n{what} (skipped in dry-run).\n\n"
                                          f"Config diff:\n\n{diff}")

        if effective == Mode.STAGED:
            await asyncio.to_thread(self.store.write_staged, new.raw)
            log.info("apply: staged a new machine config for the next boot")
            return ApplyResult(effective, what)

        if effective == Mode.TRY:
            if not self.try_pending:
                self._try_rollback = old
            await self.set_running(new)
            self._start_try_timer(timeout)
            log.info("apply: trying a new machine config for %s", _duration(timeout))
            return ApplyResult(effective, what + self._services_note())

        # NO_REBOOT / REBOOT: persist first, then switch (a crash in between boots the new)
        self._cancel_try()
        await asyncio.to_thread(self.store.discard_staged)
        await asyncio.to_thread(self.store.write_active, new.raw)
        if effective == Mode.REBOOT:
            # the running config (resource) stays until the reboot boots the persisted one
            log.info("apply: new machine config persisted; rebooting")
            return ApplyResult(effective, what, after=self._reboot)
        await self.set_running(new)
        log.info("apply: new machine config applied without a reboot")
        return ApplyResult(effective, what + self._services_note())

    async def _apply_in_maintenance(self, new: NodeConfig, mode: int,
                                    dry_run: bool) -> ApplyResult:
        if mode == Mode.TRY:
            raise FailedPrecondition("apply mode try: the node is in maintenance mode and has no "
                                     "configuration to roll back to; use --mode auto")
        self._check_can_reboot()
        what = "Applied configuration: the node leaves maintenance mode and boots with it"
        if mode not in (Mode.AUTO, Mode.REBOOT):
            what += f" (mode {Mode.NAMES[mode]} does not apply in maintenance mode)"
        if dry_run:
            return ApplyResult(Mode.REBOOT, f"Dry run summary:\n{what} (skipped in dry-run)."
                                            f"\n\nConfig diff:\n\n{config_diff(None, new.raw)}")
        await asyncio.to_thread(self.store.write_active, new.raw)
        log.info("apply: machine config stored in maintenance mode; booting with it")
        return ApplyResult(Mode.REBOOT, what, after=self._reboot)

    def _services_note(self) -> str:
        if not self.service_changes:
            return ""
        return "; services: " + "; ".join(self.service_changes)

    def _check_can_reboot(self) -> None:
        current = self.sequencer.current
        if current is not None and current not in ("boot",):
            raise Busy(f"sequence {current!r} is in progress; cannot apply a configuration "
                       "that needs a reboot now")

    async def _reboot(self) -> None:
        try:
            self.sequencer.submit(self.reboot_sequence())
        except Busy:
            # boot still running: wait for it, then reboot (the config is already persisted)
            # the sequencer signals no "idle": poll (briefly; boot is short)
            while self.sequencer.current == "boot":  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            self.sequencer.submit(self.reboot_sequence())

    # -- TRY mode -------------------------------------------------------------------------

    def _start_try_timer(self, timeout: float) -> None:
        self._cancel_try(keep_rollback=True)
        if self._tg is None:
            raise FailedPrecondition("the config applier is not running")
        self._try_task = self._tg.create_task(self._expire(timeout), name="apply-try-timeout")

    def _cancel_try(self, *, keep_rollback: bool = False) -> None:
        if self._try_task is not None and not self._try_task.done():
            self._try_task.cancel()
        self._try_task = None
        if not keep_rollback:
            self._try_rollback = None

    async def _expire(self, seconds: float) -> None:
        await self.clock.sleep(seconds)
        async with self._lock:
            target = self._try_rollback
            self._try_rollback = None
            self._try_task = None
            if target is None:
                return
            log.warning("apply: try mode timed out after %s: rolling back to the persisted "
                        "configuration", _duration(seconds))
            self.rollbacks += 1
            try:
                await self.set_running(target)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("rolling back the tried configuration failed")
