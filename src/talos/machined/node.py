"""The running node: builds everything machined owns and wires it together.

`Node.serve()` is the whole life of one machined process: install the reaper and signal
handlers, start the supervisor, the COSI runtime and the API, run the `initialize` and `boot`
sequences (`sequencer/sequences.py`), then wait for shutdown or reboot. It returns what the
process should do next.
"""

from __future__ import annotations

import asyncio
import logging
import os
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
from talos.machined.controllers.config.acquire import RunningConfig, running_config
from talos.machined.controllers.etcd.member import LocalMember
from talos.machined.controllers.register import register_all
from talos.machined.controllers.runtime.machine_status import MachineStage, machine_status
from talos.machined.controllers.runtime.meta_key import MetaKeys
from talos.machined.controllers.v1alpha1.service_config import stamped
from talos.machined.controllers.v1alpha1.service_lifecycle import Builder
from talos.machined.etcd.factory import etcd_manager
from talos.machined.etcd.manager import EtcdManager
from talos.machined.events import EventBus, ServiceStateEvent
from talos.machined.maintenance import mode as maintenance
from talos.machined.observed import Observed
from talos.machined.paths import NodePaths
from talos.machined.sequencer import Sequencer, sequences
from talos.machined.sequencer.machine import ExitAction
from talos.machined.server import start_server
from talos.machined.server.metastore import FILENAME as META_FILENAME
from talos.machined.server.metastore import MetaStore
from talos.machined.services.apid import apid_service
from talos.machined.services.containerd import containerd_service
from talos.machined.services.extension import load_extensions
from talos.machined.services.slots import cri_service, kubelet_service
from talos.machined.services.trustd import trustd_service
from talos.machined.system.forkserver import ForkServer
from talos.machined.system.forkserver import enabled as forkserver_enabled
from talos.machined.system.logbuffer import LogBuffer
from talos.machined.system.reaper import Reaper
from talos.machined.system.service import HealthStatus, ServiceEvent, ServiceSpec
from talos.machined.system.supervisor import Supervisor
from talos.machined.upgrade import detect as upgrade_detect
from talos.machined.upgrade.assess import mark_good_when_healthy
from talos.machinery.errors import TalosError

log = logging.getLogger("talos.machined")

__all__ = ["ExitAction", "Node"]


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
    """Builds the node's parts and wires them: the supervisor, the sequencer, the resource
    state with its controllers, the applier and the API. It implements the narrow interfaces
    the others are given (`sequencer.machine.Machine` for the sequences,
    `server.context.NodeAPI` for the servicers); nothing imports it but PID 1."""

    def __init__(self, paths: NodePaths, *, config_path: str | None = None,
                 sandbox: bool = False, clock: Clock | None = None,
                 reaper: Reaper | None = None, maintenance_listen: str | None = None) -> None:
        self.paths = paths
        self.sandbox = sandbox
        self.config_path = config_path
        self.clock: Clock = clock or SystemClock()
        self.reaper = reaper or Reaper(reap_all=True)
        self.bus = EventBus()
        # a control plane's apid and trustd are forked from a process that has imported
        # their modules (shared pages); TALOS_FORKSERVER=0 spawns them instead
        self.supervisor = Supervisor(
            self.reaper, self.clock,
            forkserver=(ForkServer(self.reaper.register, self.reaper.guard)
                        if forkserver_enabled() else None))
        self.sequencer = Sequencer(self.bus)
        self.state = State()
        self.runtime = Runtime(self.state, clock=self.clock)
        self.machined_log = LogBuffer()
        self.started = time.time()
        self.booted = asyncio.Event()
        self.exit_action: ExitAction | None = None
        self._exit = asyncio.Event()
        self._terminating = False
        #: facts set here and published as resources by their controllers
        self.machine_stage: MachineStage = Observed(None)
        #: the config the applier publishes; read it back with `config()`
        self.published_config: RunningConfig = Observed(None)
        self.etcd_member: LocalMember = Observed(None)
        self.meta_keys: MetaKeys = Observed(None)
        self.meta = MetaStore(os.path.join(paths.state, META_FILENAME), self.meta_keys)
        self.server: grpc.aio.Server | None = None
        self.etcd: EtcdManager | None = None
        #: the services built from the config, by id (rebuilt on a change of their inputs
        #: by `v1alpha1.ServiceLifecycleController`)
        self.service_builders: dict[str, Builder] = {
            "containerd": lambda cfg: containerd_service(paths),
            "apid": lambda cfg: apid_service(cfg, paths, self._hostname_of(cfg),
                                             sandbox=sandbox),
            "trustd": lambda cfg: trustd_service(cfg, paths, self._hostname_of(cfg),
                                                 sandbox=sandbox),
        }
        self.applier = Applier(
            paths, self.published_config, self.state, supervisor=self.supervisor,
            sequencer=self.sequencer, reboot=lambda: sequences.reboot(self), clock=self.clock,
            service_builders=self.service_builders)
        register_all(self.runtime, paths=paths, sandbox=sandbox, supervisor=self.supervisor,
                     published_config=self.published_config,
                     machine_stage=self.machine_stage,
                     etcd_member=self.etcd_member, meta_keys=self.meta_keys,
                     etcd=lambda: self.etcd,
                     hostname=lambda: self.hostname, service_builders=self.service_builders)
        #: where maintenance mode serves (host:port); None: not at all (plain mode default)
        self.maintenance_listen = maintenance_listen
        self.maintenance_server: grpc.aio.Server | None = None
        self._log_handler = _BufferHandler(self.machined_log)
        self._log_handler.setFormatter(logging.Formatter(
            "%(asctime)s [%(levelname)s] %(name)s: %(message)s"))

    # -- identity -----------------------------------------------------------------------------

    @property
    def hostname(self) -> str:
        return self._hostname_of(self.config())

    def config(self) -> NodeConfig | None:
        """The running config: the MachineConfig resource (parsed)."""
        return running_config(self.state)

    @staticmethod
    def _hostname_of(cfg: NodeConfig | None) -> str:
        if cfg is not None and cfg.hostname:
            return cfg.hostname
        return socket.gethostname()

    # -- life ---------------------------------------------------------------------------------

    def request_exit(self, action: ExitAction) -> None:
        self.exit_action = action
        self._exit.set()

    async def serve(self) -> ExitAction:
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
                applier = tg.create_task(self.applier.run(), name="config-applier")
                rt = tg.create_task(self.runtime.run(), name="cosi-runtime")
                self.paths.ensure()
                # a failed initialize is in the events and the log; PID 1 keeps serving
                await asyncio.wait([self.sequencer.submit(sequences.initialize(self))])
                booting = "initialize" in self.sequencer.done and not self._terminating
                await self._load_meta()
                self.server = await start_server(self)
                log.info("machined API listening on %s", self.paths.socket)
                assess = self._boot_assessment(tg) if booting else None
                if booting and self.config() is None:
                    self.maintenance_server = await maintenance.enter(
                        self.machine_stage, self, self.maintenance_listen)
                elif booting:
                    self.sequencer.submit(sequences.boot(self))
                await self._exit.wait()
                server, self.maintenance_server = self.maintenance_server, None
                await maintenance.leave(server)
                await self.server.stop(grace=0.5)
                await self.supervisor.stop_all()
                for t in (sup, rt, applier, assess):
                    if t is not None:
                        t.cancel()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            self.reaper.uninstall()
            logging.getLogger("talos").removeHandler(self._log_handler)
        return self.exit_action or ExitAction.POWEROFF

    def _boot_assessment(self, tg: asyncio.TaskGroup) -> asyncio.Task[bool] | None:
        """A node booted from an installed image (boot slots): log this boot's selection and
        mark the boot good once it runs healthy (an upgrade's trial boot that never gets
        there falls back at the next boot)."""
        target = upgrade_detect.boot_target(self.sandbox)
        if target is None:
            return None
        return tg.create_task(mark_good_when_healthy(target, self.booted,
                                                     self.supervisor.services),
                              name="boot-assessment")

    async def _load_meta(self) -> None:
        # after initialize: STATE is there (a metal node mounts it); an unreadable store is
        # logged and left unpublished, the methods then say what is wrong with it
        try:
            await self.meta.load()
        except TalosError as exc:
            log.warning("META: %s", exc)

    def _on_terminate(self, sig: int) -> None:
        log.info("received %s: shutting down", signal.Signals(sig).name)
        if self.sequencer.current in ("shutdown", "reboot") or self._terminating:
            return
        self._terminating = True
        # the shutdown wins over a running sequence (as when power is pulled)
        self.sequencer.preempt(sequences.shutdown(self))

    # -- service events -----------------------------------------------------------------------

    def _on_service_event(self, sid: str, ev: ServiceEvent, health: HealthStatus) -> None:
        self.bus.publish(ServiceStateEvent(sid, ev.state, ev.message, health))
        log.info("service[%s](%s): %s", sid, ev.state.value, ev.message)

    # -- what the sequences do (sequencer.machine.Machine) ------------------------------------

    async def load_config(self) -> None:
        cfg = await self.applier.load_at_boot(maintenance.seed(self.config_path))
        if cfg is None:
            log.warning("no machine config in STATE: booting into maintenance mode")
            return
        log.info("loaded machine config (type %s)", cfg.machine_type or "unknown")

    async def set_hostname(self) -> None:
        cfg = self.config()
        if self.sandbox and cfg is not None and cfg.hostname:
            socket.sethostname(cfg.hostname)
            log.info("hostname set to %s", cfg.hostname)

    async def register_services(self) -> None:
        """The services of this machine type, as Talos v1.13.9's StartAllServices: trustd and
        etcd exist on control planes only; a worker does not list them at all (clients tell
        the role from the list). The etcd manager exists everywhere: its API refuses
        clearly on a worker."""
        cfg = self.config()
        self.etcd = etcd_manager(self.paths, self.supervisor, cfg, self.hostname,
                                 self.state, self.etcd_member)
        def built(sid: str) -> ServiceSpec:
            return stamped(self.service_builders[sid](cfg), cfg)

        specs = [built("containerd"), built("apid")]
        if cfg is not None and cfg.machine_type in ("controlplane", "init"):
            specs += [built("trustd"), self.etcd.service_spec()]
        specs += [cri_service(), kubelet_service()]
        specs += await asyncio.to_thread(load_extensions, self.paths.extensions)
        for spec in specs:
            if spec.id not in {r.id for r in self.supervisor.services()}:
                self.supervisor.register(spec)

    async def start_services(self) -> None:
        self.supervisor.start_all()

    async def stop_services(self) -> list[str]:
        # apid is one of the services: let the watchers take the progress so far first
        # (`talosctl shutdown/reboot/reset` print it), bounded so a stuck watcher cannot hold
        # the shutdown
        try:
            async with asyncio.timeout(2.0):
                await self.bus.delivered()
        except TimeoutError:
            log.info("stopping services with an event watcher still behind (2 s)")
        return await self.supervisor.stop_all()

    async def publish_stage(self, stage: str, *, ready: bool = False) -> None:
        await self.machine_stage.publish(machine_status(stage, ready=ready))

    async def leave_etcd(self) -> None:
        if self.etcd is not None:
            await self.etcd.leave_if_member()

    def boot_done(self) -> None:
        self.booted.set()
        log.info("boot sequence done in %.3fs", time.time() - self.started)
