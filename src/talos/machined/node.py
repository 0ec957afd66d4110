"""The running node: everything machined owns, and the sequences that drive it.

`Node.serve()` is the whole life of one machined process: install the reaper and signal
handlers, start the supervisor, the COSI runtime and the API, run `initialize` and `boot`,
then wait for shutdown or reboot. It returns what the process should do next.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import signal
import socket
import time

import grpc

from talos.cosi.clock import Clock, SystemClock
from talos.cosi.meta import register_definitions
from talos.cosi.runtime import Runtime
from talos.cosi.state import State
from talos.machined.apply.applier import Applier
from talos.machined.config import NodeConfig
from talos.machined.controllers.config.acquire import RunningConfig
from talos.machined.controllers.etcd.member import LocalMember
from talos.machined.controllers.runtime.machine_status import MachineStage, machine_status
from talos.machined.etcd.factory import etcd_manager
from talos.machined.etcd.manager import EtcdManager
from talos.machined.events import EventBus, ServiceStateEvent
from talos.machined.maintenance import mode as maintenance_hook
from talos.machined.observed import Observed
from talos.machined.paths import NodePaths
from talos.machined.sequencer import Phase, Sequence, Sequencer, Task
from talos.machined.services.apid import apid_service
from talos.machined.services.containerd import containerd_service
from talos.machined.services.extension import load_extensions
from talos.machined.services.slots import cri_service, kubelet_service
from talos.machined.services.trustd import trustd_service
from talos.machined.system.logbuffer import LogBuffer
from talos.machined.system.reaper import Reaper
from talos.machined.system.service import HealthStatus, ServiceEvent, ServiceSpec
from talos.machined.system.supervisor import Supervisor

log = logging.getLogger("talos.machined")


class ExitAction(enum.Enum):
    POWEROFF = "poweroff"
    REBOOT = "reboot"


class _BufferHandler(logging.Handler):
    def __init__(self, buf: LogBuffer) -> None:
        super().__init__()
        self.buf = buf

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.buf.write((self.format(record) + "\n").encode(errors="replace"))
        except Exception:
            self.handleError(record)


class Node:
    def __init__(self, paths: NodePaths, *, config_path: str | None = None,
                 sandbox: bool = False, clock: Clock | None = None,
                 reaper: Reaper | None = None, maintenance_listen: str | None = None) -> None:
        self.paths = paths
        self.sandbox = sandbox
        self.config_path = config_path
        self.config: NodeConfig | None = None
        self.clock: Clock = clock or SystemClock()
        self.reaper = reaper or Reaper(reap_all=True)
        self.bus = EventBus()
        self.supervisor = Supervisor(self.reaper, self.clock)
        self.sequencer = Sequencer(self.bus)
        self.state = State()
        self.runtime = Runtime(self.state, clock=self.clock)
        self.machined_log = LogBuffer()
        self.started = time.time()
        self.boot_done = asyncio.Event()
        self.exit_action: ExitAction | None = None
        self._exit = asyncio.Event()
        self._terminating = False
        #: facts set here and published as resources by their controllers
        self.machine_stage: MachineStage = Observed(None)
        self.running_config: RunningConfig = Observed(None)
        self.etcd_member: LocalMember = Observed(None)
        self.server: grpc.aio.Server | None = None
        self.etcd: EtcdManager | None = None
        self.applier = Applier(self)
        #: where maintenance mode serves (host:port); None: not at all (plain mode default)
        self.maintenance_listen = maintenance_listen
        self.maintenance_server: grpc.aio.Server | None = None
        self._log_handler = _BufferHandler(self.machined_log)
        self._log_handler.setFormatter(logging.Formatter(
            "%(asctime)s [%(levelname)s] %(name)s: %(message)s"))

    # -- identity -----------------------------------------------------------------------------

    @property
    def hostname(self) -> str:
        if self.config is not None and self.config.hostname:
            return self.config.hostname
        return socket.gethostname()

    # -- life ---------------------------------------------------------------------------------

    def request_exit(self, action: ExitAction) -> None:
        self.exit_action = action
        self._exit.set()

    async def serve(self) -> ExitAction:
        from talos.machined.server import start_server

        logging.getLogger("talos").addHandler(self._log_handler)
        loop = asyncio.get_running_loop()
        self.reaper.install(loop)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_terminate, sig)
        try:
            async with asyncio.TaskGroup() as tg:
                self.sequencer.attach(tg)
                sup = tg.create_task(self.supervisor.run(), name="supervisor")
                await self.supervisor.ready()
                self.supervisor.subscribe(self._on_service_event)
                await register_definitions(self.state)
                maintenance_hook.register_controllers(self)
                applier = tg.create_task(self.applier.run(), name="config-applier")
                rt = tg.create_task(self.runtime.run(), name="cosi-runtime")
                self.paths.ensure()
                # a failed initialize is in the events and the log; PID 1 keeps serving
                await asyncio.wait([self.sequencer.submit(self.initialize_sequence())])
                booting = "initialize" in self.sequencer.done and not self._terminating
                self.server = await start_server(self)
                log.info("machined API listening on %s", self.paths.socket)
                if booting and self.config is None:
                    await maintenance_hook.enter(self)
                elif booting:
                    self.sequencer.submit(self.boot_sequence())
                await self._exit.wait()
                await maintenance_hook.leave(self)
                await self.server.stop(grace=0.5)
                await self.supervisor.stop_all()
                for t in (sup, rt, applier):
                    t.cancel()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            self.reaper.uninstall()
            logging.getLogger("talos").removeHandler(self._log_handler)
        return self.exit_action or ExitAction.POWEROFF

    def _on_terminate(self, sig: int) -> None:
        log.info("received %s: shutting down", signal.Signals(sig).name)
        if self.sequencer.current in ("shutdown", "reboot") or self._terminating:
            return
        self._terminating = True
        # the shutdown wins over a running sequence (as when power is pulled)
        self.sequencer.preempt(self.shutdown_sequence())

    # -- service events -----------------------------------------------------------------------

    def _on_service_event(self, sid: str, ev: ServiceEvent, health: HealthStatus) -> None:
        self.bus.publish(ServiceStateEvent(sid, ev.state, ev.message, health))
        log.info("service[%s](%s): %s", sid, ev.state.value, ev.message)

    # -- sequences ----------------------------------------------------------------------------

    def initialize_sequence(self) -> Sequence:
        return Sequence("initialize", (
            Phase("config", (Task("loadConfig", self._load_config),)),
            Phase("system", (Task("setHostname", self._set_hostname),
                             Task("registerServices", self._register_services))),
        ))

    def boot_sequence(self) -> Sequence:
        return Sequence("boot", (
            Phase("startServices", (Task("startAllServices", self._start_services),)),
            Phase("done", (Task("bootDone", self._boot_done),)),
        ))

    def shutdown_sequence(self) -> Sequence:
        return Sequence("shutdown", (
            Phase("stopServices", (Task("stopAllServices", self._stop_services),)),
            Phase("exit", (Task("powerOff", self._power_off),)),
        ), terminal=True)

    def reboot_sequence(self) -> Sequence:
        return Sequence("reboot", (
            Phase("stopServices", (Task("stopAllServices", self._stop_services),)),
            Phase("exit", (Task("reboot", self._reboot),)),
        ), terminal=True)

    # -- tasks --------------------------------------------------------------------------------

    async def _load_config(self) -> None:
        self.config = await self.applier.load_at_boot(maintenance_hook.seed(self))
        if self.config is None:
            log.warning("no machine config in STATE: booting into maintenance mode")
            return
        log.info("loaded machine config (type %s)", self.config.machine_type or "unknown")

    async def _set_hostname(self) -> None:
        if self.sandbox and self.config is not None and self.config.hostname:
            socket.sethostname(self.config.hostname)
            log.info("hostname set to %s", self.config.hostname)

    async def _register_services(self) -> None:
        """The services of this machine type, as Talos v1.13.9's StartAllServices: trustd and
        etcd exist on control planes only; a worker does not list them at all (clients tell
        the role from the list). The etcd manager exists everywhere: its API refuses
        clearly on a worker."""
        etcd = self._etcd_service()
        specs = [containerd_service(self.paths),
                 apid_service(self.config, self.paths, self.hostname, sandbox=self.sandbox)]
        if self.config is not None and self.config.machine_type in ("controlplane", "init"):
            specs += [trustd_service(self.config, self.paths, self.hostname,
                                     sandbox=self.sandbox), etcd]
        specs += [cri_service(), kubelet_service()]
        specs += await asyncio.to_thread(load_extensions, self.paths.extensions)
        for spec in specs:
            if spec.id not in {r.id for r in self.supervisor.services()}:
                self.supervisor.register(spec)

    def _etcd_service(self) -> ServiceSpec:
        self.etcd = etcd_manager(self.paths, self.supervisor, self.config, self.hostname,
                                 self.state, self.etcd_member)
        return self.etcd.service_spec()

    async def _start_services(self) -> None:
        await self.machine_stage.publish(machine_status("booting"))
        self.supervisor.start_all()

    async def _boot_done(self) -> None:
        await self.machine_stage.publish(machine_status("running", ready=True))
        self.boot_done.set()
        log.info("boot sequence done in %.3fs", time.time() - self.started)

    async def _stop_services(self) -> None:
        await self.machine_stage.publish(machine_status("shuttingDown"))
        order = await self.supervisor.stop_all()
        log.info("services stopped in order: %s", ", ".join(order))

    async def _power_off(self) -> None:
        self.request_exit(ExitAction.POWEROFF)

    async def _reboot(self) -> None:
        self.request_exit(ExitAction.REBOOT)
