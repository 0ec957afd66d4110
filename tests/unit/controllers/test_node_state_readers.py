"""Controllers that publish what the node has (HostnameSpec from the config, resolvers from
resolv.conf, STATE/EPHEMERAL volumes from their directories), through the harness: outputs
for inputs, and the re-reads on the fake clock."""

from __future__ import annotations

from pathlib import Path

from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.block.volume_status import VolumeStatusController
from talos.machined.controllers.network.hostname_spec import HostnameSpecController
from talos.machined.controllers.network.resolver_status import ResolverStatusController
from talos.machinery.resources.block import VOLUME_STATUS
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import (
    HOSTNAME_SPEC,
    RESOLVER_STATUS,
    HostnameSpecSpec,
    ResolverStatusSpec,
)
from tests.unit.controllers.configs import machine_config


async def test_hostname_spec_follows_the_config_layer_and_falls_back_to_the_default() -> None:
    async with ControllerHarness(HostnameSpecController(default="node-0")) as h:
        await h.until_output(HOSTNAME_SPEC, "hostname",
                             lambda s: s == HostnameSpecSpec("node-0", "", "default"))
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config(
            {"machine": {"network": {"hostname": "cp-1.example.org"}}}))
        await h.until_output(HOSTNAME_SPEC, "hostname", lambda s: s == HostnameSpecSpec(
            "cp-1", "example.org", "configuration"))
        await h.destroy(MACHINE_CONFIG, ACTIVE_ID)
        await h.until_output(HOSTNAME_SPEC, "hostname",
                             lambda s: s == HostnameSpecSpec("node-0", "", "default"))


async def test_resolvers_are_reread_from_resolv_conf(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 10.5.0.1\nsearch example.org\n")
    async with ControllerHarness(ResolverStatusController(str(conf), poll=30)) as h:
        await h.until_output(RESOLVER_STATUS, "resolvers", lambda s: s == ResolverStatusSpec(
            ("10.5.0.1",), ("example.org",)))
        conf.write_text("nameserver 1.1.1.1\nnameserver 8.8.8.8\n")
        await h.advance(30)
        await h.until_output(RESOLVER_STATUS, "resolvers", lambda s: s == ResolverStatusSpec(
            ("1.1.1.1", "8.8.8.8"), ()))


async def test_volumes_are_directories_ready_or_missing(tmp_path: Path) -> None:
    state, ephemeral = tmp_path / "state", tmp_path / "ephemeral"
    state.mkdir()
    async with ControllerHarness(VolumeStatusController(
            {"STATE": str(state), "EPHEMERAL": str(ephemeral)}, poll=30)) as h:
        out = await h.until_outputs(VOLUME_STATUS, lambda o: len(o) == 2)
        assert out["STATE"].phase == "ready" and out["STATE"].type == "directory"
        assert out["STATE"].mount_spec.target_path == "/system/state"
        assert out["EPHEMERAL"].phase == "missing"
        ephemeral.mkdir()
        await h.advance(30)
        await h.until_output(VOLUME_STATUS, "EPHEMERAL", lambda s: s.phase == "ready")
