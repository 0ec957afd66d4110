"""Boot assessment: tell the boot target this boot is good once the node runs with its
core services healthy (systemd-boot's "boot assessment": a boot on trial that never gets
here is not marked, and the next boot falls back). At the start it logs what the slot
selection of this boot did, so an automatic rollback shows in `talosctl logs machined`
(and `dmesg` on a node whose console is the log).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Protocol

from talos.machined.upgrade.target import BootTarget
from talos.machinery.errors import NotFound, TalosError

log = logging.getLogger("talos.machined.upgrade")

#: the services a healthy node runs (those registered on this node of these)
CORE_SERVICES = ("containerd", "apid", "trustd", "etcd")
POLL = 1.0


class Service(Protocol):
    @property
    def id(self) -> str: ...

    def is_up(self) -> bool: ...


def healthy(services: Iterable[Service]) -> tuple[bool, list[str]]:
    """(all core services up, the ones that are not)."""
    down = sorted(s.id for s in services if s.id in CORE_SERVICES and not s.is_up())
    return not down, down


def note_selection(target: BootTarget) -> str:
    """The boot record's note about this boot's selection, logged as a warning; "" when
    there is nothing to say (or no record)."""
    try:
        state = target.state()
    except NotFound:
        return ""
    cur = state.current_image()
    log.info("boot: slot %s (%s)%s", state.current, cur.tag if cur else "?",
             ", on trial" if state.on_trial else "")
    if state.last_selection:
        log.warning("boot: %s", state.last_selection)
    return state.last_selection


async def mark_good_when_healthy(target: BootTarget, booted: asyncio.Event,
                                 services: Callable[[], Iterable[Service]]) -> bool:
    """Wait for the boot sequence to finish and the core services to be up, then mark the
    boot good; True when that changed the record (the boot was on trial). A record it
    cannot read or write is logged, never raised: the node runs on regardless."""
    try:
        await asyncio.to_thread(note_selection, target)
    except (TalosError, OSError) as e:
        log.warning("boot: cannot read the boot record: %s", e)
    await booted.wait()
    said: list[str] | None = None
    while True:
        ok, down = healthy(services())
        if ok:
            break
        if down != said:
            log.info("boot assessment: waiting for %s", ", ".join(down))
            said = down
        await asyncio.sleep(POLL)
    try:
        changed = await asyncio.to_thread(target.mark_good)
    except NotFound:
        return False
    except (TalosError, OSError) as e:
        log.warning("boot assessment: cannot mark this boot good: %s", e)
        return False
    if changed:
        log.info("boot assessment: this boot is good (the previous image stays the "
                 "fallback)")
    return changed
