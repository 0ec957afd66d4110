"""The service supervisor: dependencies, pre-conditions, restarts with back-off, health.

Each started service has one lifecycle task owned by the supervisor's TaskGroup. An exception
inside a service's lifecycle marks that service Failed and is logged; the supervisor (and
PID 1) keep running.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from talos.cosi.clock import Clock, SystemClock
from talos.machined.system.forkserver import ForkServer
from talos.machined.system.logbuffer import LogBuffer
from talos.machined.system.reaper import Reaper
from talos.machined.system.runner import ProcessRunner
from talos.machined.system.service import (
    HealthStatus,
    RestartPolicy,
    ServiceEvent,
    ServiceSpec,
    ServiceState,
)
from talos.machinery.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound

log = logging.getLogger(__name__)

MAX_EVENTS = 64

#: called on every state or health change: (service id, event, health)
Listener = Callable[[str, ServiceEvent, HealthStatus], None]


class ServiceRunner:
    """State, events, health and log of one service, and its lifecycle."""

    def __init__(self, spec: ServiceSpec, sup: Supervisor) -> None:
        self.spec = spec
        self.sup = sup
        self.state = ServiceState.INITIALIZED
        self.events: collections.deque[ServiceEvent] = collections.deque(maxlen=MAX_EVENTS)
        self.health = HealthStatus()
        self.log = LogBuffer()
        self.pid: int | None = None
        self.restarts = 0
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._changed = asyncio.Event()
        self._record(ServiceState.INITIALIZED, "Service initialized")

    # -- observation --------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def active(self) -> bool:
        return self._task is not None and not self._task.done()

    def _record(self, state: ServiceState, message: str) -> None:
        self.state = state
        ev = ServiceEvent(message=message, state=state, ts=time.time())
        self.events.append(ev)
        self.log.write(f"[talos] {self.id}: {state.value}: {message}\n".encode())
        self._pulse()
        self.sup._emit(self.id, ev, self.health)

    def _set_health(self, healthy: bool, message: str) -> None:
        if not self.health.unknown and self.health.healthy == healthy \
                and self.health.last_message == message:
            return
        self.health = HealthStatus(unknown=False, healthy=healthy, last_message=message,
                                   last_change=time.time())
        ev = ServiceEvent(message="Health check successful" if healthy
                          else f"Health check failed: {message}", state=self.state,
                          ts=time.time())
        self.events.append(ev)
        self._pulse()
        self.sup._emit(self.id, ev, self.health)

    def _pulse(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, pred: Callable[[ServiceRunner], bool]) -> None:
        while not pred(self):
            await self._changed.wait()

    def is_up(self) -> bool:
        """Running, and healthy if it has a health check."""
        if self.state is not ServiceState.RUNNING:
            return False
        return self.spec.health_check is None or (not self.health.unknown
                                                  and self.health.healthy)

    # -- control ------------------------------------------------------------------------------

    def start(self, tg: asyncio.TaskGroup) -> None:
        if self.active:
            return
        self._stop = asyncio.Event()
        self._task = tg.create_task(self._lifecycle(), name=f"service:{self.id}")

    async def stop(self) -> None:
        if not self.active:
            return
        self._stop.set()
        assert self._task is not None
        # the lifecycle owns the process; wait for it to finish stopping
        await asyncio.wait([self._task])

    # -- lifecycle ----------------------------------------------------------------------------

    async def _lifecycle(self) -> None:
        spec = self.spec
        try:
            if spec.skip_reason:
                self._record(ServiceState.SKIPPED, spec.skip_reason)
                return
            if not await self._until_stopped(self._wait_dependencies()):
                return
            if spec.precondition is not None:
                self._record(ServiceState.WAITING, "Waiting for "
                             + (spec.precondition_description or "pre-condition"))
                if not await self._until_stopped(spec.precondition()):
                    return
            self._record(ServiceState.PREPARING, "Running pre state")
            if spec.prepare is not None:
                await spec.prepare()
            if spec.process is None:
                raise FailedPrecondition(f"service {self.id!r} has no process to run")
            await self._run_loop()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("service %s failed", self.id)
            self._record(ServiceState.FAILED, f"Service failed: {exc}")

    async def _until_stopped(self, aw: Awaitable[None]) -> bool:
        """Await `aw` unless a stop comes first; False (and Finished) if stopped."""
        work = asyncio.ensure_future(aw)
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait([work, stop], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not work.done():
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
        if work.done() and not work.cancelled():
            work.result()  # re-raise its error
            return True
        self._record(ServiceState.FINISHED, "Service finished before it started")
        return False

    async def _wait_dependencies(self) -> None:
        deps = [self.sup.get(d) for d in self.spec.depends_on]
        pending = [d for d in deps if not d.is_up()]
        if not pending:
            return
        self._record(ServiceState.WAITING, "Waiting for "
                     + ", ".join(f"service {d.id!r} to be up" for d in pending))
        for d in pending:
            await d.wait_for(ServiceRunner.is_up)

    async def _run_loop(self) -> None:
        spec = self.spec
        assert spec.process is not None
        while True:
            self._record(ServiceState.STARTING, "Starting service")
            runner = ProcessRunner(spec.process, self.sup.reaper, self.log,
                                   self.sup.forkserver)
            try:
                pid = await runner.launch()
            except OSError as exc:
                self._record(ServiceState.FAILED, f"Failed to start: {exc}")
                code: int | None = None
            else:
                self.pid = pid
                self._record(ServiceState.RUNNING, f"Process {pid} started")
                try:
                    code = await self._supervise(runner)
                except BaseException:
                    runner.kill_now()
                    raise
                self.pid = None
                if code is None:  # stop requested
                    return
                if code == 0:
                    self._record(ServiceState.FINISHED, "Service finished successfully")
                else:
                    reason = (f"killed by signal {-code}" if code < 0
                              else f"exited with code {code}")
                    self._record(ServiceState.FAILED, f"Process {pid} {reason}")
            if spec.restart is RestartPolicy.ONCE or (
                    code == 0 and spec.restart is RestartPolicy.UNTIL_SUCCESS):
                return
            self.restarts += 1
            self._record(ServiceState.WAITING,
                         f"Restarting service after back-off of {spec.backoff:g}s")
            stopped = await self._sleep_or_stop(spec.backoff)
            if stopped:
                self._record(ServiceState.FINISHED, "Service stopped during back-off")
                return

    async def _sleep_or_stop(self, seconds: float) -> bool:
        sleep = asyncio.ensure_future(self.sup.clock.sleep(seconds))
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait([sleep, stop], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (sleep, stop):
                t.cancel()
        return self._stop.is_set()

    async def _supervise(self, runner: ProcessRunner) -> int | None:
        """Wait for exit or stop, checking health meanwhile; None when stopped on request."""
        async with asyncio.TaskGroup() as tg:
            health = tg.create_task(self._health_loop()) if self.spec.health_check else None
            exit_task = tg.create_task(runner.wait())
            stop = tg.create_task(self._stop.wait())
            await asyncio.wait([exit_task, stop], return_when=asyncio.FIRST_COMPLETED)
            if health is not None:
                health.cancel()
            if exit_task.done():
                stop.cancel()
                runner.drain()
                self.health = HealthStatus()
                return exit_task.result()
            self._record(ServiceState.STOPPING, "Stopping service")
            code = await runner.stop(self.spec.stop_timeout)
            exit_task.cancel()
        self.health = HealthStatus()
        self._record(ServiceState.FINISHED, f"Service stopped (exit {code})")
        return None

    async def _health_loop(self) -> None:
        """Check every `health_interval`; until the first success, probe every 0.1 s (for at
        most one interval), so a service that comes up fast is healthy fast."""
        check = self.spec.health_check
        assert check is not None
        interval = self.spec.health_interval
        probing = max(1, int(interval / 0.1))
        while probing:
            try:
                async with asyncio.timeout(max(interval, 1.0)):
                    await check()
            except asyncio.CancelledError:
                raise
            except Exception:
                probing -= 1
                await self.sup.clock.sleep(min(0.1, interval))
                continue
            self._set_health(True, "")
            await self.sup.clock.sleep(interval)
            break
        while True:
            limit = max(self.spec.health_interval, 1.0)
            try:
                async with asyncio.timeout(limit):
                    await check()
            except asyncio.CancelledError:
                raise
            except TimeoutError as exc:
                self._set_health(False, str(exc) or f"the health check did not finish within "
                                 f"{limit:g}s")
            except Exception as exc:
                self._set_health(False, str(exc) or "the health check failed without a reason")
            else:
                self._set_health(True, "")
            await self.sup.clock.sleep(self.spec.health_interval)


class Supervisor:
    def __init__(self, reaper: Reaper, clock: Clock | None = None,
                 forkserver: ForkServer | None = None) -> None:
        self.reaper = reaper
        self.clock: Clock = clock or SystemClock()
        #: forks the services whose process spec allows it (apid, trustd); None: spawn all
        self.forkserver = forkserver
        self._services: dict[str, ServiceRunner] = {}
        self._listeners: list[Listener] = []
        self._tg: asyncio.TaskGroup | None = None
        self._ready = asyncio.Event()

    # -- registry -----------------------------------------------------------------------------

    def register(self, spec: ServiceSpec) -> ServiceRunner:
        if spec.id in self._services:
            raise AlreadyExists(f"service {spec.id!r} is already registered")
        for dep in spec.depends_on:
            if dep not in self._services:
                raise InvalidArgument(f"service {spec.id!r} depends on unknown service {dep!r}")
        r = ServiceRunner(spec, self)
        self._services[spec.id] = r
        return r

    def get(self, service_id: str) -> ServiceRunner:
        try:
            return self._services[service_id]
        except KeyError:
            raise NotFound(f"service {service_id!r} not found") from None

    def services(self) -> list[ServiceRunner]:
        return sorted(self._services.values(), key=lambda r: r.id)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` on every service event; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, sid: str, ev: ServiceEvent, health: HealthStatus) -> None:
        for fn in self._listeners:
            try:
                fn(sid, ev, health)
            except Exception:
                log.exception("service event listener failed")

    # -- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Own the lifecycle tasks until cancelled; cancelling kills what still runs."""
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                self._ready.set()
                try:
                    await asyncio.Event().wait()
                finally:
                    self._tg = None
        finally:
            if self.forkserver is not None:
                self.forkserver.close()

    async def ready(self) -> None:
        await self._ready.wait()

    def _group(self) -> asyncio.TaskGroup:
        if self._tg is None:
            raise FailedPrecondition("the service supervisor is not running")
        return self._tg

    def start(self, service_id: str) -> None:
        self.get(service_id).start(self._group())

    def start_all(self, ids: Iterable[str] | None = None) -> None:
        for r in self.services():
            if (ids is None and r.spec.autostart) or (ids is not None and r.id in ids):
                r.start(self._group())

    async def stop(self, service_id: str) -> None:
        """Stop one service, after the running services that depend on it."""
        await self._stop_ordered([service_id, *self._dependents(service_id)])

    async def restart(self, service_id: str) -> None:
        await self.get(service_id).stop()
        self.start(service_id)

    async def stop_all(self) -> list[str]:
        """Stop every service in reverse dependency order; the order actually used."""
        return await self._stop_ordered([r.id for r in self.services()])

    def _dependents(self, sid: str) -> list[str]:
        out: list[str] = []
        todo = [sid]
        while todo:
            cur = todo.pop()
            for r in self._services.values():
                if cur in r.spec.depends_on and r.id not in out:
                    out.append(r.id)
                    todo.append(r.id)
        return out

    async def _stop_ordered(self, ids: list[str]) -> list[str]:
        """Stop `ids` in waves: a service stops only once nothing in the set depends on it."""
        remaining = set(ids)
        order: list[str] = []
        while remaining:
            wave = sorted(s for s in remaining if not any(
                s in self._services[o].spec.depends_on for o in remaining if o != s))
            if not wave:  # a cycle cannot be registered, but never spin
                wave = sorted(remaining)
            await asyncio.gather(*(self._services[s].stop() for s in wave))
            order.extend(wave)
            remaining -= set(wave)
        return order
