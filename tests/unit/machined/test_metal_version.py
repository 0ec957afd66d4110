"""Version names the platform: `metal` on a machine booted from the image, `container` in a
sandbox (as Talos calls a node without a kernel of its own)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from talos.machined.paths import NodePaths
from talos.machined.platform import metal
from talos.machined.server.machine import MachineServicer


def _servicer(tmp_path, sandbox: bool) -> MachineServicer:
    node = SimpleNamespace(sandbox=sandbox, hostname="node-1", paths=NodePaths(str(tmp_path)))
    return MachineServicer(node)  # type: ignore[arg-type]


async def test_a_machine_booted_from_the_image_reports_platform_metal(tmp_path, monkeypatch):
    monkeypatch.setattr(metal, "_active", True)
    reply = await _servicer(tmp_path, sandbox=True).Version(None, None)  # type: ignore[arg-type]
    platform = reply.messages[0].platform
    assert (platform.name, platform.mode) == ("metal", "metal")


@pytest.mark.parametrize(("sandbox", "name"), [(True, "container"), (False, "local")])
async def test_a_sandbox_or_plain_node_keeps_its_platform(tmp_path, sandbox, name):
    reply = await _servicer(tmp_path, sandbox).Version(None, None)  # type: ignore[arg-type]
    assert reply.messages[0].platform.name == name
