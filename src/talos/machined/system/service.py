"""What a service is: a frozen spec the supervisor runs, and the observable state it reports."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


class ServiceState(enum.Enum):
    INITIALIZED = "Initialized"
    PREPARING = "Preparing"
    WAITING = "Waiting"
    RUNNING = "Running"
    STOPPING = "Stopping"
    FINISHED = "Finished"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    STARTING = "Starting"


class RestartPolicy(enum.Enum):
    ALWAYS = "always"              # restart after any exit (back-off between runs)
    UNTIL_SUCCESS = "until-success"  # restart after a failure, stop after exit code 0
    ONCE = "once"                  # never restart


@dataclass(frozen=True)
class ProcessSpec:
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    cwd: str | None = None
    #: the explicit base environment (PATH, locale, HOME, Python's; see
    #: `talos.machinery.environment`) underneath `env`; never machined's own environment
    base_env: bool = True
    #: may be forked from machined's fork server (`system/forkserver.py`) instead of spawned:
    #: argv must be this interpreter with -m or -c; spawned whenever forking fails
    fork: bool = False


HealthCheck = Callable[[], Awaitable[None]]  # returns when healthy, raises when not


@dataclass(frozen=True)
class ServiceSpec:
    """One supervised service.

    `skip_reason` set means the service cannot run on this node (reported as Skipped).
    `precondition` is awaited (in state Waiting) before the service is prepared; it returns
    when the service may start. `prepare` runs in state Preparing (directories, configs).
    """

    id: str
    process: ProcessSpec | None = None
    depends_on: tuple[str, ...] = ()
    skip_reason: str | None = None
    precondition: Callable[[], Awaitable[None]] | None = None
    precondition_description: str = ""
    prepare: Callable[[], Awaitable[None]] | None = None
    health_check: HealthCheck | None = None
    health_interval: float = 5.0
    restart: RestartPolicy = RestartPolicy.ALWAYS
    backoff: float = 5.0
    stop_timeout: float = 10.0
    #: accepts ServiceStart/Stop/Restart from the API
    user_controlled: bool = False
    #: started by `start_all` at boot
    autostart: bool = True
    labels: tuple[tuple[str, str], ...] = field(default=())
    #: the config inputs the spec was built from, as (path, digest) pairs (see
    #: `controllers/v1alpha1/service_config.py`); () for services not built from the config
    config_inputs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ServiceEvent:
    message: str
    state: ServiceState
    ts: float  # unix time


@dataclass(frozen=True)
class HealthStatus:
    unknown: bool = True
    healthy: bool = False
    last_message: str = ""
    last_change: float = 0.0
