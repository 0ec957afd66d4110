"""What machined's API servicers (and the maintenance API) are given: the node's parts they
serve from, as one typed interface. `talos.machined.node.Node` implements it; a servicer
never imports the node."""

from __future__ import annotations

from typing import Protocol

from talos.cosi.runtime import Runtime
from talos.cosi.state import State
from talos.machined.apply.applier import Applier
from talos.machined.config import NodeConfig
from talos.machined.etcd.manager import EtcdManager
from talos.machined.events import EventBus
from talos.machined.sequencer import Sequencer
from talos.machined.sequencer.machine import Machine
from talos.machined.server.metastore import MetaStore
from talos.machined.system.logbuffer import LogBuffer
from talos.machined.system.reaper import Reaper
from talos.machined.system.supervisor import Supervisor


class NodeAPI(Machine, Protocol):
    #: a node sandbox (PID 1 in its namespaces), not a plain process under a root directory
    sandbox: bool
    #: when machined started (time.time())
    started: float
    bus: EventBus
    supervisor: Supervisor
    sequencer: Sequencer
    machined_log: LogBuffer
    state: State
    runtime: Runtime
    applier: Applier
    #: the etcd manager, once services are registered
    etcd: EtcdManager | None
    #: the node's META keys (a file in STATE)
    meta: MetaStore
    #: the one reaper of the node's children (commands machined runs register with it)
    reaper: Reaper

    def config(self) -> NodeConfig | None:
        """The running config (the MachineConfig resource, parsed)."""
        ...

    @property
    def hostname(self) -> str:
        """The configured hostname, else the kernel's."""
        ...
