"""The node's sequences, built on the narrow `Machine` interface (as upstream's
`v1alpha1_sequencer.go`): initialize, boot, shutdown, reboot and reset. The install and
upgrade sequences are added here with the operations they need on `Machine`.

A sequence is data (phases of tasks); the sequencer runs one at a time and reports every step
as an event.
"""

from __future__ import annotations

import asyncio
import logging
import os

from talos.machined.reset import ENV_STATE_WIPED, STATE, ResetPlan, empty_directory
from talos.machined.sequencer.machine import ExitAction, Machine
from talos.machined.sequencer.sequencer import Phase, Sequence, Task

log = logging.getLogger(__name__)


def initialize(m: Machine) -> Sequence:
    return Sequence("initialize", (
        Phase("config", (Task("loadConfig", m.load_config),)),
        Phase("system", (Task("setHostname", m.set_hostname),
                         Task("registerServices", m.register_services))),
    ))


def boot(m: Machine) -> Sequence:
    async def start_all() -> None:
        await m.publish_stage("booting")
        await m.start_services()

    async def done() -> None:
        await m.publish_stage("running", ready=True)
        m.boot_done()

    return Sequence("boot", (
        Phase("startServices", (Task("startAllServices", start_all),)),
        Phase("done", (Task("bootDone", done),)),
    ))


async def _stop_all(m: Machine) -> None:
    await m.publish_stage("shuttingDown")
    order = await m.stop_services()
    log.info("services stopped in order: %s", ", ".join(order))


async def _drain() -> None:
    log.info("drain: no Kubernetes node to cordon and drain (the kubelet is not run here): "
             "nothing to do")


def shutdown(m: Machine, *, drain: bool = False) -> Sequence:
    """Stop every service and power off. The shutdown the API asks for drains first unless
    `force` is set (Talos v1.13/v1.14 `Sequencer.Shutdown`): the kubelet is not run on these
    nodes, so the drain phase has nothing to cordon or evict and says so. A SIGTERM to
    machined (a power cut) runs it without the drain."""
    async def power_off() -> None:
        m.request_exit(ExitAction.POWEROFF)

    phases: tuple[Phase, ...] = (
        Phase("stopServices", (Task("stopAllServices", lambda: _stop_all(m)),)),
        Phase("exit", (Task("powerOff", power_off),)))
    if drain:
        phases = (Phase("drain", (Task("cordonAndDrainNode", _drain),)), *phases)
    return Sequence("shutdown", phases, terminal=True)


def reboot(m: Machine) -> Sequence:
    async def exit_reboot() -> None:
        m.request_exit(ExitAction.REBOOT)

    return Sequence("reboot", (
        Phase("stopServices", (Task("stopAllServices", lambda: _stop_all(m)),)),
        Phase("exit", (Task("reboot", exit_reboot),)),
    ), terminal=True)


def reset(m: Machine, p: ResetPlan) -> Sequence:
    """Leave etcd (graceful), stop services in order, wipe what the plan names, then reboot
    or power off (see `talos.machined.reset` for the plan)."""
    async def stop_services() -> None:
        await m.publish_stage("resetting")
        log.info("reset: %s", p.describe())
        order = await m.stop_services()
        log.info("reset: services stopped in order: %s", ", ".join(order))

    async def wipe(label: str) -> None:
        path = m.paths.state if label == STATE else m.paths.ephemeral
        await asyncio.to_thread(empty_directory, path)
        log.info("reset: wiped %s (%s)", label, path)
        if label == STATE:
            os.environ[ENV_STATE_WIPED] = "1"

    async def finish() -> None:
        m.request_exit(ExitAction.REBOOT if p.reboot else ExitAction.POWEROFF)

    phases = []
    if p.graceful:
        phases.append(Phase("leaveEtcd", (Task("leaveEtcd", m.leave_etcd),)))
    phases.append(Phase("stopServices", (Task("stopAllServices", stop_services),)))
    if p.wipe:
        phases.append(Phase("wipe", tuple(
            Task(f"wipe{label.capitalize()}", lambda label=label: wipe(label))  # type: ignore[misc]
            for label in p.wipe)))
    phases.append(Phase("exit", (Task("reboot" if p.reboot else "powerOff", finish),)))
    return Sequence("reset", tuple(phases), terminal=True)
