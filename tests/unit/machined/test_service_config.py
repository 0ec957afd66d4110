"""Per-service config: an in-place config change restarts, stops or leaves services as the
fields they are built from changed (real processes under a real supervisor)."""

from __future__ import annotations

import sys

from talos.machined.apply.services import ServiceConfigRule, reconcile
from talos.machined.config import NodeConfig, parse_config
from talos.machined.system.service import ProcessSpec, ServiceSpec, ServiceState
from talos.machined.system.supervisor import Supervisor


def cfg(hostname: str, labels: str = "a") -> NodeConfig:
    return parse_config(f"""version: v1alpha1
machine:
  type: worker
  nodeLabels:
    x: {labels}
  network:
    hostname: {hostname}
cluster:
  clusterName: c
""".encode())


def build(c: NodeConfig) -> ServiceSpec:
    if c.hostname == "off":
        return ServiceSpec(id="greeter", skip_reason="greeter is off on this node")
    code = f"import time; print('hello from {c.hostname}', flush=True); time.sleep(600)"
    return ServiceSpec(id="greeter", process=ProcessSpec(argv=(sys.executable, "-c", code)))


RULE = ServiceConfigRule("greeter", ("machine.network.hostname",), build)


async def _running_with(s: Supervisor, text: bytes) -> None:
    r = s.get("greeter")
    await r.wait_for(lambda r: r.state is ServiceState.RUNNING)
    seen = b""
    async for chunk in r.log.read(tail_lines=-1, follow=True):
        seen += chunk
        if text in seen:
            return


async def test_changed_fields_restart_the_service_with_its_new_spec(sup):
    old = cfg("node-1")
    sup.register(build(old))
    sup.start("greeter")
    await _running_with(sup, b"hello from node-1")
    pid = sup.get("greeter").pid
    # a field the service does not use: nothing happens
    assert await reconcile(sup, [RULE], old, cfg("node-1", labels="b")) == []
    assert sup.get("greeter").pid == pid
    done = await reconcile(sup, [RULE], old, cfg("node-2"))
    assert done == ["greeter: restarted (machine.network.hostname changed)"]
    await _running_with(sup, b"hello from node-2")
    assert sup.get("greeter").pid != pid


async def test_a_service_the_new_config_turns_off_is_stopped_and_reports_why(sup):
    old = cfg("node-1")
    sup.register(build(old))
    sup.start("greeter")
    await _running_with(sup, b"hello from node-1")
    done = await reconcile(sup, [RULE], old, cfg("off"))
    assert done == ["greeter: stopped (machine.network.hostname changed)"]
    r = sup.get("greeter")
    await r.wait_for(lambda r: r.state is ServiceState.SKIPPED)
    assert r.events[-1].message == "greeter is off on this node"
    # and back on
    done = await reconcile(sup, [RULE], cfg("off"), cfg("node-3"))
    assert done == ["greeter: started (machine.network.hostname changed)"]
    await _running_with(sup, b"hello from node-3")
