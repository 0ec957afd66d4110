"""The controller runtime: registers controllers, runs each in its own task, restarts a
failing one with exponential back-off, and shuts everything down when cancelled."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from talos.cosi.clock import Clock, SystemClock
from talos.cosi.context import ControllerContext
from talos.cosi.controller import Controller, InputKind, OutputKind
from talos.cosi.state import State
from talos.machinery.errors import AlreadyExists, Conflict, FailedPrecondition

log = logging.getLogger("talos.cosi.runtime")


@dataclass(frozen=True)
class DependencyEdge:
    """One edge of the controller/resource graph (as inspect.ControllerDependencyEdge)."""

    controller: str
    kind: str  # input-weak, input-strong, input-destroy-ready, output-exclusive, output-shared
    namespace: str
    type: str
    id: str = ""


@dataclass
class _Entry:
    controller: Controller
    ctx: ControllerContext
    failures: int = 0
    last_error: str = ""


class Runtime:
    def __init__(self, state: State, *, clock: Clock | None = None,
                 backoff_initial: float = 0.1, backoff_max: float = 30.0) -> None:
        self.state = state
        self.clock: Clock = clock or SystemClock()
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._entries: dict[str, _Entry] = {}
        self._running = False

    def register(self, controller: Controller) -> None:
        """Add a controller; refuses duplicate names and a second owner of an exclusive
        output (or mixing exclusive and shared owners of one type)."""
        if self._running:
            raise FailedPrecondition("controllers must be registered before the runtime runs")
        name = controller.name
        if name in self._entries:
            raise AlreadyExists(f"controller {name} is already registered")
        for out in controller.outputs:
            for other in self._entries.values():
                for o in other.controller.outputs:
                    if o.type != out.type:
                        continue
                    if OutputKind.EXCLUSIVE in (o.kind, out.kind):
                        raise Conflict(
                            f"controller {name}: output {out.type} is already owned by "
                            f"{other.controller.name} ({o.kind.value}); an exclusive output "
                            "has exactly one controller")
        ctx = ControllerContext(controller, self.state, self.clock)
        self._entries[name] = _Entry(controller, ctx)

    def failures(self, name: str) -> int:
        return self._entries[name].failures

    def context(self, name: str) -> ControllerContext:
        return self._entries[name].ctx

    async def run(self) -> None:
        """Run every controller until cancelled; then stop them all and return cleanly
        (re-raising the cancellation)."""
        self._running = True
        try:
            async with asyncio.TaskGroup() as tg:
                for entry in self._entries.values():
                    tg.create_task(self._supervise(entry), name=entry.controller.name)
        finally:
            for entry in self._entries.values():
                entry.ctx.detach()
            self._running = False

    async def _supervise(self, e: _Entry) -> None:
        name = e.controller.name
        backoff = self.backoff_initial
        e.ctx.attach()
        while True:
            try:
                await e.controller.run(e.ctx)
                log.info("controller %s finished", name)
                return
            except asyncio.CancelledError:
                raise
            except Exception as err:
                e.failures += 1
                e.last_error = f"{type(err).__name__}: {err}"
                if e.ctx.completed_pass:
                    backoff = self.backoff_initial
                log.error("controller %s failed (%s); restarting in %.3gs", name,
                          e.last_error, backoff)
            await self.clock.sleep(backoff)
            backoff = min(backoff * 2, self.backoff_max)
            e.ctx.restarted()

    def dependencies(self) -> list[DependencyEdge]:
        edges: list[DependencyEdge] = []
        for name in sorted(self._entries):
            c = self._entries[name].controller
            for i in c.inputs:
                kind = {InputKind.WEAK: "input-weak", InputKind.STRONG: "input-strong",
                        InputKind.DESTROY_READY: "input-destroy-ready"}[i.kind]
                edges.append(DependencyEdge(name, kind, i.namespace, i.type, i.id or ""))
            for o in c.outputs:
                edges.append(DependencyEdge(name, f"output-{o.kind.value}", "", o.type))
        return edges
