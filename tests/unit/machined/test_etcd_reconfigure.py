"""EtcdManager.reconfigure on a real supervisor, without starting etcd: a skipped etcd stays
skipped (new reason, no restart); a worker ignores etcd settings."""

from __future__ import annotations

from pathlib import Path

from talos.machined.etcd.manager import SERVICE_ID, EtcdManager
from talos.machined.paths import NodePaths
from talos.machined.system.service import ServiceState
from talos.machined.system.supervisor import Supervisor


async def test_unconfigured_etcd_stays_skipped_with_the_new_reason(sup: Supervisor,
                                                                    tmp_path: Path) -> None:
    mgr = EtcdManager(NodePaths(str(tmp_path)), sup, control_plane=True, settings=None,
                      settings_error="cluster.etcd.ca.crt: is required on a control plane")
    sup.register(mgr.service_spec())
    sup.start(SERVICE_ID)
    runner = sup.get(SERVICE_ID)
    await runner.wait_for(lambda r: r.state is ServiceState.SKIPPED)
    events = len(runner.events)
    assert await mgr.reconfigure(None, "cluster.etcd.ca.key: is not valid base64") == ""
    assert runner.spec.skip_reason is not None
    assert "cluster.etcd.ca.key" in runner.spec.skip_reason
    assert runner.state is ServiceState.SKIPPED and len(runner.events) == events
    # the same settings again: nothing to do
    assert await mgr.reconfigure(None, "cluster.etcd.ca.key: is not valid base64") == ""


async def test_worker_ignores_etcd_settings(sup: Supervisor, tmp_path: Path) -> None:
    mgr = EtcdManager(NodePaths(str(tmp_path)), sup, control_plane=False, settings=None)
    sup.register(mgr.service_spec())
    assert await mgr.reconfigure(None, "anything") == ""
    assert sup.get(SERVICE_ID).spec.skip_reason == "etcd runs only on control-plane nodes"
